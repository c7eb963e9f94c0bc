"""q05 from a codebook, with the tiny Mimi checkpoint loaded through the same `from_pretrained` path a
TA's folder takes: the committed fixture, and fresh ones with known values planted at row 2047 of
layer 0 (one option's values, values matching no option)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import torch
from conftest import fixture_script

from checks.models.mimi import MimiSource, load_mimi
from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.run import run_checks
from checks.questions import q05_codebook
from grader.key import load_key
from grader.spec import load_bank
from hw10.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "fixtures" / "tiny_mimi"


@pytest.fixture(scope="module")
def bank():
    return load_bank(ROOT / "questions")


@pytest.fixture(scope="module")
def script():
    return fixture_script("make_mimi_fixture")


def run_key(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def test_committed_fixture_is_small_and_loads_like_a_ta_folder():
    size = sum(f.stat().st_size for f in TINY.iterdir())
    assert size < 1_000_000
    codec = load_mimi(MimiSource(str(TINY), device="cpu"))
    assert codec.info.kind == "local" and not codec.info.random_weights
    assert set(codec.info.weights_sha256) == {"model.safetensors"}
    assert "preprocessor_config.json" in codec.info.feature_extractor
    assert (codec.num_quantizers, codec.codebook_size, codec.hop) == (4, 2048, 1920)
    assert float(codec.codebook_vectors(0).abs().min(dim=1).values.max()) > 0  # filled, not zero
    cb = codec.codebook(0)
    assert not torch.allclose(cb.embed_sum, codec.codebook_vectors(0))  # usage ≠ 1: embed_sum differs from embed


def test_committed_fixture_is_what_the_script_makes(script, tmp_path):
    from safetensors.torch import load_file

    fresh = script.make_tiny_mimi(tmp_path / "tiny", plant=script.option_values("D"))
    a, b = load_file(str(TINY / "model.safetensors")), load_file(str(fresh / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_committed_fixture_decides_q05_from_its_codebook(bank):
    codec = load_mimi(MimiSource(str(TINY), device="cpu"))
    ctx = CheckContext(models={"mimi": LazyModel.ready("mimi", codec)})
    ev = q05_codebook.compute(ctx, bank["q05"])
    d = q05_codebook.decide(ev, bank["q05"])
    assert d.correct == ("D",)  # the fixture script planted option D's values
    assert d.verdicts["D"].why.startswith("reading embed matches")
    # bfloat16 keeps ~3 significant digits: that reading is off in the 3rd-4th decimal and matches nothing
    bf16 = next(r for r in ev.measured.readings if r.name == "embed_bfloat16")
    assert max(abs(a - b) for a, b in zip(bf16.values, bank["q05"].option("D").value)) > 0.00051
    names = [r.name for r in ev.measured.readings]
    assert names == ["embed", "embed_sum", "output_proj", "embed_bfloat16"]
    assert "csm_audio_embedding" in ev.measured.not_computed
    assert d.margin > 0 and ev.measured.cluster_usage > 1


@pytest.mark.parametrize("letter", ["A", "C"])
def test_planted_option_is_found_through_hw10_key(script, bank, tmp_path, letter):
    folder = script.make_tiny_mimi(tmp_path / "tiny", plant=script.option_values(letter))
    key_path = tmp_path / "key.yaml"
    rc, out, err = run_key(["key", "--questions", "4,5", "--mimi", str(folder), "--device", "cpu",
                            "--assets", str(ROOT / "fixtures" / "assets"), "--out", str(key_path)])
    assert rc == 0, err
    key = load_key(key_path, bank)
    a = key.answers["q05"]
    assert (a.status, a.correct, a.level) == ("computed", [letter], "fixture")  # found, and labelled a fixture
    assert "reading embed" in a.evidence["verdicts"][letter]["why"]
    assert key.answers["q04"].status == "computed" and key.answers["q04"].level == "fixture"
    mimi = key.provenance["models"]["mimi"]
    assert mimi["kind"] == "local" and len(mimi["weights_sha256"]["model.safetensors"]) == 64
    assert mimi["fixture"].startswith("hw10 tiny Mimi test fixture") and key.provenance["test_fixtures"] == ["mimi"]
    assert f"  q05  {letter} " in out and "computed (fixture)" in out
    assert "note: q04, q05 computed from hw10 test fixtures" in out


def test_grading_with_a_fixture_key_withholds_the_gradebook_import(bank, tmp_path, capsys):
    """A key computed from a test checkpoint must never reach the gradebook by accident."""
    key_path = tmp_path / "key.yaml"
    rc, _, err = run_key(["key", "--questions", "4,5", "--mimi", str(TINY), "--device", "cpu",
                          "--assets", str(ROOT / "fixtures" / "assets"), "--out", str(key_path)])
    assert rc == 0, err
    export = str(ROOT / "fixtures" / "sample_class" / "export.csv")
    out = tmp_path / "graded"
    assert main(["grade", export, "--key", str(key_path), "--out", str(out), "--allow-pending"]) == 3  # fixture key
    printed = capsys.readouterr().out
    assert not (out / "grades.csv").exists() and (out / "scores.csv").exists()
    assert "answers to q04, q05 were computed from hw10 test fixtures" in printed and "--allow-fixture-key" in printed
    assert "Test-fixture key" in (out / "report.html").read_text(encoding="utf-8")
    assert main(["grade", export, "--key", str(key_path), "--out", str(out), "--allow-pending",
                 "--allow-fixture-key"]) == 0
    assert (out / "grades.csv").exists()


def test_planted_values_matching_no_option_leave_q05_pending_with_the_values(script, bank, tmp_path):
    """No reading matches an option: never the nearest. With an hw10 test checkpoint the question stays pending (a
    TA reviews evidence about the homework's model only)."""
    folder = script.make_tiny_mimi(tmp_path / "tiny", plant=[0.1234, -0.5, 0.25, 0.0, 0.9])
    codec = load_mimi(MimiSource(str(folder), device="cpu"))
    out = {o.qid: o for o in run_checks(bank, ["q05"], CheckContext(models={"mimi": LazyModel.ready("mimi", codec)}))}
    o = out["q05"]
    assert o.status == "pending" and o.correct == ()
    assert "no option matches" in o.reason and "embed = [0.1234, -0.5000, 0.2500, 0.0000, 0.9000]" in o.reason
    assert o.evidence is not None and all(v.verdict == "false" for v in o.evidence.verdicts.values())


def test_untrained_zero_codebooks_are_called_out(bank, tmp_path):
    from transformers import MimiModel

    script = fixture_script("make_mimi_fixture")
    torch.manual_seed(0)
    MimiModel(script.tiny_config()).save_pretrained(str(tmp_path / "zero"))  # random init: zero codebooks
    codec = load_mimi(MimiSource(str(tmp_path / "zero"), device="cpu"))
    out = run_checks(bank, ["q05"], CheckContext(models={"mimi": LazyModel.ready("mimi", codec)}))
    o = next(x for x in out if x.qid == "q05")
    assert o.status == "pending" and "all zeros" in o.reason and "untrained" in o.reason
    assert "feature extractor" not in o.reason and "kyutai/mimi settings" in codec.info.feature_extractor


def test_tiny_model_with_4_layers_is_pending_for_the_32_layer_questions(bank):
    codec = load_mimi(MimiSource(str(TINY), device="cpu"))
    out = {o.qid: o for o in run_checks(bank, ["q01"], CheckContext(
        assets=ROOT / "fixtures" / "assets", models={"mimi": LazyModel.ready("mimi", codec)}))}
    assert out["q01"].status == "pending" and "32 code layers asked" in out["q01"].reason
