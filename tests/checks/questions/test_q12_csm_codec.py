"""q12 with a real (tiny, untrained) CSM whose codec is the full-size Mimi architecture: its generated codes,
decoded by the very same codec saved as a standalone Mimi, reproduce CSM's own output_audio exactly; a Mimi with
other weights does not. The decision rules are checked on hand-made measurements (what csm-1b would give), and the
"done when" command runs end to end."""
from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import pytest
import torch
import yaml
from conftest import fixture_script

from checks.bench.full_run import shortfalls
from checks.evidence import Evidence
from checks.models.csm import CsmRunOptions, CsmSource, load_csm
from checks.models.mimi import MimiSource, load_mimi
from checks.models.providers import Loaded, ProviderInfo, load_asr_model
from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.outcome import QuestionOutcome
from checks.pipeline.run import run_question
from checks.questions import q12_csm_codec as q12
from checks.questions.q12_weights import compare_state_dicts, config_differences
from grader.spec import load_bank
from hw10.cli import main

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "fixtures" / "assets"


pytestmark = [pytest.mark.usefixtures("one_torch_thread"),
              pytest.mark.slow]  # every test here loads the tiny CSM fixture (built once per machine)


@pytest.fixture(scope="module")
def bank():
    return load_bank(ROOT / "questions")


@pytest.fixture(scope="module")
def spec(bank):
    return bank["q12"]


@pytest.fixture(scope="module")
def tiny():
    return fixture_script("make_csm_fixture").ensure_tiny_csm()


@pytest.fixture(scope="module")
def runner(tiny):
    return load_csm(CsmSource(str(tiny.csm), device="cpu"), CsmRunOptions(samples=2, max_new_tokens=8))


@pytest.fixture(scope="module")
def asr():
    return LazyModel.ready("asr", load_asr_model("faster-whisper:tiny.en-bundled", "cpu"))


def context(runner, mimi, asr, **kw):
    return CheckContext(assets=ASSETS, models={"csm": LazyModel.ready("csm", Loaded(runner, ProviderInfo("tiny"))),
                                               "mimi": LazyModel.ready("mimi", mimi), "asr": asr}, **kw)


def test_the_fixtures_codec_reproduces_csms_own_audio(spec, runner, tiny, asr, tmp_path):
    mimi = load_mimi(MimiSource(str(tiny.mimi), device="cpu"))
    out = run_question(spec, context(runner, mimi, asr, evidence_dir=tmp_path, seed=5))
    m, v = out.evidence.measured, out.evidence.verdicts
    assert m.config_differences == {}
    assert m.weights_differing == 0 and m.weights_sha256_csm_codec == m.weights_sha256_mimi
    assert m.weights_tensors > 300 and m.weights_dtype == "float32"
    assert (m.frames_generated, m.frames_decoded, m.end_frame) == (8, 8, None)
    assert m.csm_audio_samples == m.mimi_audio_samples == 8 * 1920
    assert m.max_abs_diff <= spec.thresholds["decode_max_abs_diff"] and m.snr_db == math.inf
    assert m.audio_peak > 0.01  # real audio was compared, not two silences
    assert 0 <= m.code_min and m.code_max < 2048
    assert v["A"].verdict == "true" and v["B"].verdict == "false" and v["C"].verdict == "false"
    assert "not post-trained" in v["B"].why
    assert v["D"].verdict == "undecided" and v["D"].why.startswith("not meaningful with these weights")
    assert out.status == "pending" and out.reason.startswith("undecided: D: not meaningful")
    # every reply compared, not the first alone; each one's two audios kept to listen to
    assert len(m.speech) >= 2 and all(r.max_abs_diff <= spec.thresholds["decode_max_abs_diff"] for r in m.speech)
    assert f"in every one of {len(m.speech)} replies compared" in v["A"].why
    assert shortfalls(out, spec) == []  # hw10 bench: the real run's work, every reply decoded and compared
    assert {p.name for p in (tmp_path / "q12").iterdir()} == {"csm_codes.npy", "csm_output_audio.wav",
                                                              "mimi_decode.wav"} | {
        f"{name}_{i:02d}.wav" for i in range(1, len(m.speech)) for name in ("csm_output_audio", "mimi_decode")}


def test_a_mimi_with_other_weights_does_not_reproduce_it(spec, runner, asr):
    other = load_mimi(MimiSource("architecture", device="cpu", seed=1))  # same config, other weights
    # keygen would skip q12 for a random-weight Mimi before measuring; the check itself is called here
    ev = q12.compute(context(runner, other, asr), spec)
    m, v = ev.measured, ev.verdicts
    assert m.config_differences == {} and m.weights_differing > 100
    assert m.max_abs_diff > 1.0 and m.snr_db < 5
    assert v["A"].verdict == "undecided" and v["B"].verdict == "undecided" and v["C"].verdict == "undecided"
    assert "SNR" not in v["A"].why and "max |Mimi decode − CSM output_audio|" in v["A"].why
    assert q12.decide(ev, spec).status == "pending"
    # hw10 bench says so: a CSM whose codec is not the standalone Mimi is not the real run's q12
    assert shortfalls(QuestionOutcome("q12", "pending", evidence=ev), spec)[0].startswith(
        f"CSM's codec differs from the standalone Mimi in {m.weights_differing} of {m.weights_tensors} tensors")


def test_comparisons_see_differences(tiny):
    from transformers import MimiConfig

    a = load_mimi(MimiSource(str(tiny.mimi), device="cpu")).model
    same = compare_state_dicts(a, a)
    assert same.identical and same.n_differing == 0
    b16 = load_mimi(MimiSource(str(tiny.mimi), device="cpu", dtype="bfloat16")).model
    mixed = compare_state_dicts(a, b16)  # compared at bfloat16, the lower precision: the rounding is the same
    assert mixed.dtype == "bfloat16" and mixed.identical
    name, param = next((n, p) for n, p in b16.named_parameters() if n.endswith("q_proj.weight"))
    with torch.no_grad():
        param[0, 0] += 1
    changed = compare_state_dicts(a, b16)
    assert not changed.identical and changed.differing == [name] and changed.sha256_a != changed.sha256_b
    cfg = MimiConfig().to_dict()
    diff = config_differences({**cfg, "transformers_version": "x"}, {**cfg, "num_quantizers": 8})
    assert diff == {"num_quantizers": (32, 8)}


# ----------------------------------------------------------------------------- the decision rules


def real_like(**kw):
    """What csm-1b with kyutai/mimi should give (both float32 on one device)."""
    base = dict(csm="csm-1b", mimi="kyutai/mimi", config_differences={}, weights_dtype="float32",
                weights_sha256_csm_codec="a" * 64, weights_sha256_mimi="a" * 64, weights_tensors=350,
                weights_differing=0, weights_differing_names=[], seed=0, max_new_tokens=125, frames_generated=27,
                end_frame=26, frames_decoded=26, code_min=0, code_max=2047, codebook_size=2048,
                csm_dtype="float32", mimi_dtype="float32", csm_audio_samples=26 * 1920,
                mimi_audio_samples=26 * 1920, max_abs_diff=0.0, snr_db=math.inf, audio_peak=0.6,
                prompt_text="Do you know that you were generated by AI?",
                transcript_csm="Do you know that you were generated by AI?",
                transcript_mimi="Do you know that you were generated by AI?", wer_csm=0.0, wer_mimi=0.0)
    base.update(kw)
    return q12.CodecMeasured(**base)


def decide(m, spec):
    return q12.decide(Evidence("q12", m, q12.judge(m, spec), ""), spec)


def test_real_like_evidence_decides_a(spec):
    d = decide(real_like(), spec)
    assert d.status == "computed" and d.correct == ("A",)
    assert [d.verdicts[x].verdict for x in "BCD"] == ["false"] * 3


def test_bfloat16_csm_against_float32_mimi_is_judged_by_snr(spec):
    ok = decide(real_like(csm_dtype="bfloat16", max_abs_diff=0.01, snr_db=37.0), spec)
    assert ok.correct == ("A",) and "SNR 37.0 dB ≥ 20 dB" in ok.verdicts["A"].why
    bad = decide(real_like(csm_dtype="bfloat16", max_abs_diff=0.9, snr_db=3.0, weights_differing=5,
                           wer_mimi=0.1), spec)
    assert bad.status == "pending" and bad.verdicts["A"].verdict == "undecided"


def test_a_post_trained_codec_would_be_b_or_c_not_a(spec):
    m = real_like(weights_differing=12, weights_sha256_mimi="b" * 64, max_abs_diff=0.4, snr_db=1.0,
                  transcript_mimi="", wer_mimi=1.0)
    d = decide(m, spec)
    assert d.verdicts["A"].verdict == "false" and d.verdicts["B"].verdict == "true"
    assert d.verdicts["D"].verdict == "true"  # Mimi's decode is noise while CSM's own audio is speech
    assert d.verdicts["C"].verdict == "undecided"  # nothing measured tests C's reason
    assert d.status == "pending"  # B and D both fit: no single answer is claimed


def test_nothing_decoded_is_undecided(spec):
    m = real_like(frames_generated=1, end_frame=0, frames_decoded=0, code_min=None, code_max=None,
                  csm_audio_samples=0, mimi_audio_samples=0, max_abs_diff=None, snr_db=None, audio_peak=None,
                  transcript_csm=None, transcript_mimi=None, wer_csm=None, wer_mimi=None)
    d = decide(m, spec)
    assert d.status == "pending" and "CSM decoded no frames" in d.verdicts["A"].why
    assert d.verdicts["B"].verdict == "false"  # identical weights still refute B's premise


def test_d_is_decided_on_every_reply_not_one_seed(spec):
    """One reply whose Mimi decode is speech refutes "only noise" even when the first reply's is not; D is true only
    when some reply's own audio is speech and Mimi's decode never is."""
    first = q12.SpeechSample(0, 26, "do you know", "hmm", 0.1, 0.9)
    speech = q12.SpeechSample(1, 26, "do you know that", "do you know that", 0.1, 0.1)
    noise = q12.SpeechSample(2, 26, "uh", "hm", 0.9, 0.9)
    m = real_like(transcript_mimi="hmm", wer_mimi=0.9, speech=[first, speech])
    v = decide(m, spec).verdicts["D"]
    assert v.verdict == "false" and "of 2 replies, Mimi's decode is speech in 1, only CSM's own audio in 1" in v.why
    m = real_like(transcript_mimi="hmm", wer_mimi=0.9, speech=[first, noise])
    assert decide(m, spec).verdicts["D"].verdict == "true"
    m = real_like(transcript_csm="uh", wer_csm=0.9, transcript_mimi="hm", wer_mimi=0.9, speech=[noise, noise])
    d = decide(m, spec)
    assert d.status == "pending" and q12.gate(m, spec).startswith("not meaningful with these weights: in none of 2")


def reply(seed, max_abs_diff, **kw):
    """One reply compared with Mimi's decode (26 frames, both float32) and transcribed as speech."""
    base = dict(code_min=0, code_max=2047, csm_audio_samples=26 * 1920, mimi_audio_samples=26 * 1920,
                max_abs_diff=max_abs_diff, snr_db=math.inf if max_abs_diff == 0 else 10.0, audio_peak=0.6)
    base.update(kw)
    return q12.SpeechSample(seed, 26, "do you know that", "do you know that", 0.1, 0.1, **base)


def test_a_is_decided_on_every_reply_not_the_first(spec):
    """Reproduction is checked reply by reply: all five reproduced → A; one of five not reproduced (the first one
    fine) → the replies disagree, A is open and the question goes to a TA; none reproduced → not A."""
    from checks.pipeline.run import options_to_review

    good = [reply(i, 0.0) for i in range(5)]
    d = decide(real_like(speech=good), spec)
    assert d.correct == ("A",) and "in every one of 5 replies compared" in d.verdicts["A"].why
    one_off = good[:4] + [reply(4, 0.3)]
    m = real_like(speech=one_off)
    d = decide(m, spec)
    v = d.verdicts["A"]
    assert v.verdict == "undecided" and "the replies disagree: reproduced in 4 of 5" in v.why
    assert "not in seed 4: max |Mimi decode − CSM output_audio| = 0.3 > 0.0001" in v.why
    assert d.status == "pending" and options_to_review(q12, Evidence("q12", m, d.verdicts, ""), d, spec) == ("A", "C")
    d = decide(real_like(speech=[reply(i, 0.3) for i in range(5)]), spec)
    assert d.verdicts["A"].verdict == "undecided" and "in none of 5 replies compared" in d.verdicts["A"].why
    assert d.verdicts["C"].verdict == "undecided"
    # a reply whose codes fall outside Mimi's codebooks refutes A, whichever reply it is
    d = decide(real_like(speech=good[:4] + [reply(4, None, code_max=2051, note="codes 0…2051 are outside")]), spec)
    assert d.verdicts["A"].verdict == "false" and "0…2051, outside Mimi's 0…2047" in d.verdicts["A"].why


def test_codes_outside_mimis_range_refute_a(spec):
    d = decide(real_like(code_max=2050), spec)
    assert d.verdicts["A"].verdict == "false" and "outside Mimi's 0…2047" in d.verdicts["A"].why


# ----------------------------------------------------------------------------- the command


def test_hw10_key_writes_evidence_for_both_questions(tiny, tmp_path):
    ev, key = tmp_path / "ev", tmp_path / "k.yaml"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["key", "--questions", "11-12", "--csm", str(tiny.csm), "--mimi", str(tiny.mimi),
                   "--asr", "faster-whisper:tiny.en-bundled", "--assets", str(ASSETS), "--evidence-dir", str(ev),
                   "--samples", "2", "--csm-max-new-tokens", "6", "--device", "cpu", "--no-cache", "--out", str(key)])
    assert rc == 0, err.getvalue()
    assert "error:" not in err.getvalue()
    q11_ev = yaml.safe_load((ev / "q11.yaml").read_text())
    q12_ev = yaml.safe_load((ev / "q12.yaml").read_text())
    assert len(q11_ev["measured"]["samples"]) == 2 and q12_ev["measured"]["max_abs_diff"] == 0.0
    # D looks at every reply (--samples 2), and they are q11's own: one batch, generated once in this run
    assert [(r["seed"], r["batch_index"]) for r in q12_ev["measured"]["speech"]] == [(0, 0), (0, 1)]
    assert [s["transcript"] for s in q11_ev["measured"]["samples"]] == [
        r["transcript_csm"] for r in q12_ev["measured"]["speech"]]
    answers = yaml.safe_load(key.read_text())
    assert answers["answers"]["q11"]["status"] == "pending"
    assert answers["answers"]["q11"]["reason"].startswith("not meaningful")
    assert answers["answers"]["q12"]["status"] == "pending"
    assert answers["answers"]["q12"]["evidence"]["verdicts"]["A"]["verdict"] == "true"
    csm = answers["provenance"]["models"]["csm"]
    assert csm["kind"] == "local" and "untrained" in csm["fixture"] and csm["dtype"] == "float32"
    assert "--csm " in answers["provenance"]["command"] and "--samples 2" in answers["provenance"]["command"]
    assert "q11  —        pending: not meaningful" in out.getvalue()
