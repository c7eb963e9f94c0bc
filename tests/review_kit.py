"""A key with a question in review, made by the real pipeline, and a filled decisions file: what the tests of
``hw10 review`` (tests/hw10/cli) and of its sheet in a browser (tests/reports) start from."""
from __future__ import annotations

import functools

import yaml
from conftest import fixture_script

HISS = fixture_script("make_review_demo").HISS
"""The stand-in codec's hiss of the review demo (fixtures/make_review_demo.py)."""


@functools.cache
def tiny_en():
    """The offline tiny.en ASR (English-only: q07's Chinese clip gets no transcript measure), loaded once per test
    process."""
    from checks.models.providers import load_asr_model

    return load_asr_model("faster-whisper:tiny.en-bundled", "cpu")


def review_key(bank, tmp_path, hiss: float = HISS):
    """A key from the pipeline whose q07 is in review (the others the sample key's, asserted), its evidence folder,
    and the key file: fixtures/make_review_demo.py, the demo a TA rehearses the review on."""
    return fixture_script("make_review_demo").build(tmp_path, hiss, asr=tiny_en(), bank=bank)


def review_sheet(bank, tmp_path):
    """:func:`review_key`, then its sheet written by ``hw10 review KEY --evidence-dir EVIDENCE --out tmp_path/sheet``
    (exit 0); returns the key file, the evidence folder and the sheet folder."""
    from hw10.cli import main

    key_path, evidence = review_key(bank, tmp_path)
    sheet = tmp_path / "sheet"
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(sheet)]) == 0
    return key_path, evidence, sheet


def fill(decisions_path, reviewer="TA Lin", **verdicts):
    """The sheet's decisions.yaml with ``verdicts`` ({letter: (verdict, note)}) for q07 and the reviewer filled in."""
    data = yaml.safe_load(decisions_path.read_text(encoding="utf-8"))
    data["reviewer"] = reviewer
    for letter, (verdict, note) in verdicts.items():
        data["questions"]["q07"]["claims"].setdefault(letter, {}).update({"verdict": verdict, "note": note})
    out = decisions_path.with_name("filled.yaml")
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
