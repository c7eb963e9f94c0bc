"""`hw10 bench --stages key_real` does the real run's work: q06 at its real clip count, CSM's codec holding the
standalone Mimi's weights, and a row that says when a measurement stopped short.

The stage itself (1.6 B-parameter CSM, turbo-sized Whisper) takes about twenty minutes on this machine's CPU; its
parts are tested here on real files and the real fixtures, its whole run measured with `hw10 bench`
(docs/benchmarks.md)."""
import hashlib
from types import SimpleNamespace

import pytest
from conftest import ROOT, fixture_script

from checks.bench import emovdb_standin
from checks.bench.full_run import shortfalls
from checks.bench.models import codec_weights
from checks.evidence import Evidence
from checks.pipeline.outcome import QuestionOutcome, pending
from checks.questions.emovdb import LABELS, balanced_subset, complete_speakers, scan
from checks.questions.q06_umap import CodecCheck, UmapMeasured
from checks.questions.q11_conversation import ConversationMeasured, Sample
from checks.questions.q12_weights import compare_state_dicts

REPLICA = ROOT / "fixtures" / "assets" / "emovdb"


def test_the_standin_gives_q06_its_real_number_of_real_length_clips(tmp_path, bank):
    per_class = int(bank["q06"].thresholds["per_class"])
    out = tmp_path / "emovdb"
    written = emovdb_standin.build(out, per_class, REPLICA)
    assert set(written) == set(LABELS) and min(written.values()) >= per_class
    found = scan(out)
    speakers, lacking = complete_speakers(found, LABELS)
    assert speakers == ["bea", "jenie", "sam"] and set(lacking) == {"josh"}  # the real corpus's layout
    picked = balanced_subset(found, per_class, LABELS, speakers=speakers, seed=0, folder=out)
    assert len(picked) == per_class * len(LABELS)  # what q06 takes from the real EmoV-DB
    import soundfile as sf

    lengths = {sf.info(str(c.path)).duration for c in picked}
    assert lengths == {emovdb_standin.CLIP_SECONDS}
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*.wav")}
    assert len(digests) == len(found)  # no two clips alike (seeded noise on every one)


def test_the_standin_never_writes_into_an_existing_folder(tmp_path):
    out = tmp_path / "emovdb"
    out.mkdir()
    (out / "mine.txt").write_text("a TA's file")
    with pytest.raises(FileExistsError):
        emovdb_standin.build(out, 2, REPLICA)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


@pytest.mark.slow
def test_csms_codec_gets_the_standalone_mimis_weights():
    """The tiny CSM fixture's codec is a full-size Mimi, as csm-1b's is: given another Mimi's weights it holds them
    exactly (what q12 compares); without one its codebooks are filled, never a random init's zeros."""
    from checks.models.mimi import MimiSource, load_mimi

    model, _ = fixture_script("make_csm_fixture").make_model()
    other = load_mimi(MimiSource("architecture", device="cpu", seed=1))
    assert compare_state_dicts(model.codec_model, other.model).n_differing > 100
    said = codec_weights(model.codec_model, other)
    assert compare_state_dicts(model.codec_model, other.model).n_differing == 0
    assert "standalone Mimi's weights" in said and "seed 1" in said
    import torch
    from transformers import MimiConfig, MimiModel

    with torch.random.fork_rng(devices=[]):
        fresh = MimiModel(MimiConfig())
    books = [layer.codebook for layer in fresh.quantizer.semantic_residual_vector_quantizer.layers]
    assert not books[0].embed_sum.any()  # a random init: every code alike
    assert "seeded N(0, 1) codebooks" in codec_weights(fresh)
    assert all(b.embed_sum.std() > 0.5 for b in books)


def _q06(spec, clips: int) -> QuestionOutcome:
    per_emotion = clips // len(LABELS)
    m = UmapMeasured(folder="emovdb", per_class=per_emotion, clips=clips,
                     clip_counts={x: {"bea": per_emotion} for x in LABELS}, model_layers=32, layers=[0, 6],
                     layers_missing=[], decide_on="umap", umap_seeds=[0], stats=[], gaps=[], plots=[],
                     codec_check=[CodecCheck("bea/amused_1-15_0001.wav", 1.1, None),
                                  CodecCheck("bea/anger_1-28_0001.wav", None, "NoUtterancesError")],
                     codec_best_pesq=1.1)
    return QuestionOutcome(spec.id, "pending", evidence=Evidence(spec.id, m, {}, "…"))


def test_a_row_names_what_a_measurement_left_out(bank):
    q06 = bank["q06"]
    real = int(q06.thresholds["per_class"]) * len(LABELS)
    assert shortfalls(_q06(q06, 30), q06) == [f"30 clips, the real run takes {real}",
                                              "codec check bea/anger_1-28_0001.wav: no PESQ (NoUtterancesError)"]
    assert shortfalls(_q06(q06, real), q06) == ["codec check bea/anger_1-28_0001.wav: no PESQ (NoUtterancesError)"]

    q11 = bank["q11"]
    m = ConversationMeasured(model="csm", samples_requested=3, samples_from="q11.yaml", max_new_tokens=125,
                             turns=[], candidates=[], reference_similarity=0.3,
                             samples=[Sample(seed=0, frames=125, seconds=10.0, ended=False, transcript="", wer={},
                                             similarity={}),
                                      Sample(seed=0, frames=40, seconds=3.2, ended=True, transcript="", wer={},
                                             similarity={})])
    assert shortfalls(QuestionOutcome("q11", "pending", evidence=Evidence("q11", m, {}, "…")), q11) == [
        "2 of 3 replies", "reply 1 ended at frame 40 of 125"]

    assert shortfalls(pending("q07", "emovdb/ not found", "asset"), bank["q07"]) == [
        "stopped before measuring: emovdb/ not found"]
    assert shortfalls(QuestionOutcome("q01", "computed", ("B",), evidence=Evidence("q01", None, {}, "…")),
                      bank["q01"]) == []


def test_a_check_without_a_rule_is_not_audited_rather_than_full():
    new = SimpleNamespace(id="q13", check=SimpleNamespace(module="checks.questions.q13_new"))
    assert shortfalls(QuestionOutcome("q13", "pending", evidence=Evidence("q13", None, {}, "…")), new) is None
