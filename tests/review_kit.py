"""A key with a question in review, made by the real pipeline, and a filled decisions file: what the tests of
``hw10 review`` (tests/hw10/cli) and of its sheet in a browser (tests/reports) start from."""
from __future__ import annotations

import functools

import yaml
from conftest import ROOT, make_key
from stand_in_codec import StandInCodec

from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.outcome import build_key
from checks.pipeline.run import run_checks
from grader.key import dump_key

ASSETS = ROOT / "fixtures" / "assets"


HISS = 0.026
"""The stand-in codec's hiss (RMS relative to the clip's): both clips come back at PESQ 2.27, inside the band of
"reconstructed well" (2.2 ± 0.1), with ESTOI 0.998 (every word intact): C is open, leaning true."""


@functools.cache
def tiny_en():
    """The offline tiny.en ASR (English-only: q07's Chinese clip gets no transcript measure), loaded once per test
    process."""
    from checks.models.providers import load_asr_model

    return load_asr_model("faster-whisper:tiny.en-bundled", "cpu")


def review_key(bank, tmp_path, hiss: float = HISS):
    """A key from the pipeline whose q07 is in review (the others asserted, as a TA's sample key), its evidence
    folder, and the key file."""
    ctx = CheckContext(assets=ASSETS, models={"mimi": LazyModel.ready("mimi", StandInCodec("noise", k=hiss)),
                                              "asr": LazyModel.ready("asr", tiny_en())},
                       evidence_dir=tmp_path / "evidence")
    outcomes = run_checks(bank, ["q07"], ctx)
    computed = build_key(bank, outcomes, {"kind": "computed", "description": "stand-in codec"})
    key = make_key(bank)
    key.answers["q07"] = computed.answers["q07"]
    path = tmp_path / "key.yaml"
    path.write_text(dump_key(key), encoding="utf-8")
    return path, tmp_path / "evidence"


def fill(decisions_path, reviewer="TA Lin", **verdicts):
    """The sheet's decisions.yaml with ``verdicts`` ({letter: (verdict, note)}) for q07 and the reviewer filled in."""
    data = yaml.safe_load(decisions_path.read_text(encoding="utf-8"))
    data["reviewer"] = reviewer
    for letter, (verdict, note) in verdicts.items():
        data["questions"]["q07"]["claims"].setdefault(letter, {}).update({"verdict": verdict, "note": note})
    out = decisions_path.with_name("filled.yaml")
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
