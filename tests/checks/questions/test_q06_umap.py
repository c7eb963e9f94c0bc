"""q06: the silhouette/interval/UMAP/plot machinery on synthetic clusters whose truth is known by
construction, the claim judging (thresholds, undecided band, fragile, gates), and compute() on the
EmoV-DB replica with the full-size architecture (all four layers, plots) and the tiny fixture (4 layers:
layers 6, 16 and 31 reported missing), plus every bad EmoV-DB folder through `hw10 key`'s runner."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from checks.evidence import Evidence
from checks.metrics.clusters import distances, resample_indices, scatter, silhouette
from checks.models.batch_encode import bench_encoding, encode_batched, encode_naive
from checks.models.mimi import MimiSource, load_mimi
from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.run import run_question
from checks.questions import q06_separation, q06_umap
from checks.questions.emovdb import LABELS
from checks.questions.q06_separation import GapStat, SeparationStat
from checks.questions.q06_umap import CodecCheck, UmapMeasured
from grader.spec import load_bank

ROOT = Path(__file__).resolve().parents[3]
REPLICA = ROOT / "fixtures" / "assets" / "emovdb"
TINY = ROOT / "fixtures" / "tiny_mimi"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def spec():
    return load_bank(ROOT / "questions")["q06"]


def small(spec, **kw):
    """q06's spec with cheaper settings (fewer UMAP seeds and resamples) for tests."""
    th = {**spec.thresholds, "umap_seeds": 2, "bootstrap": 30, **kw}
    return replace(spec, thresholds=th)


# -- numbers -------------------------------------------------------------------------------------------------

def test_silhouette_matches_sklearn_and_resamples_are_stratified():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)) + np.repeat(np.eye(4, 6) * 2, 10, axis=0)
    labels = np.repeat(np.arange(4), 10)
    for metric in ("cosine", "euclidean"):
        assert silhouette(distances(x, metric), labels) == pytest.approx(
            silhouette_score(x, labels, metric=metric), abs=1e-9)
    d = distances(np.array([[1.0, 0], [0, 0], [2.0, 0]]), "cosine")
    assert d[0, 2] == pytest.approx(0.0) and d[0, 1] == pytest.approx(1.0)  # zero row: distance 1
    with pytest.raises(ValueError, match="2 ≤ classes"):
        silhouette(distances(x[:3], "euclidean"), np.zeros(3))
    subsets = resample_indices(labels, 5, 0.8, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(subsets, resample_indices(labels, 5, 0.8, seed=1)))
    assert not all(np.array_equal(a, b) for a, b in zip(subsets, resample_indices(labels, 5, 0.8, seed=2)))
    for idx in subsets:
        assert len(set(idx.tolist())) == len(idx) == 32  # 8 of each class, no repeats
        assert np.bincount(labels[idx]).tolist() == [8, 8, 8, 8]


def blobs(groups: dict[str, str], spread: float, n: int, rng) -> np.ndarray:
    """Points of each label around its group's mean (labels in the same group overlap)."""
    means = {g: 3.0 + spread * rng.normal(size=24) for g in sorted(set(groups.values()))}
    return np.stack([means[groups[label]] + rng.normal(size=24) for label in LABELS for _ in range(n)])


@pytest.fixture(scope="module")
def synthetic(spec):
    """Layer 0: five separate clusters; layer 6: amused = angry and disgusted = neutral overlap, sleepy apart;
    layers 16, 31: one cloud. Truth: C false, D true, E true, F true, G false, H true."""
    rng = np.random.default_rng(0)
    n = 12
    labels = [label for label in LABELS for _ in range(n)]
    vectors = {0: blobs({x: x for x in LABELS}, 3.0, n, rng),
               6: blobs({"amused": "a", "angry": "a", "disgusted": "b", "neutral": "b", "sleepy": "c"}, 3.0, n, rng),
               16: blobs({x: "one" for x in LABELS}, 0.0, n, rng),
               31: blobs({x: "one" for x in LABELS}, 0.0, n, rng)}
    speakers = ["s1", "s2", "s3"] * (len(labels) // 3)  # every emotion spoken by each of three voices
    return q06_separation.measure_separation(vectors, labels, small(spec), seed=0, plot_dir=None,
                                             speakers=speakers), n


def measured(result, n=12, pesq=3.5, layers_missing=(), model_layers=32) -> UmapMeasured:
    present = [x for x in (0, 6, 16, 31) if x not in layers_missing]
    return UmapMeasured(folder="synthetic", per_class=n, clips=5 * n, clip_counts={}, model_layers=model_layers,
                        layers=present, layers_missing=list(layers_missing), decide_on="umap",
                        umap_seeds=result.umap_seeds, stats=result.stats, gaps=result.gaps, plots=result.plots,
                        codec_check=[CodecCheck("clip", pesq)], codec_best_pesq=pesq)


@pytest.mark.slow
def test_known_clusters_give_the_known_answer(spec, synthetic):
    result, n = synthetic
    sil = {(s.layer, s.subset): s for s in result.stats}
    assert sil[(0, "all")].umap > 0.8 and sil[(0, "all")].original > 0.6
    assert sil[(31, "all")].umap < 0.1 and sil[(31, "all")].original < 0.1
    assert sil[(6, "amused+angry")].umap < 0.25 < sil[(6, "angry+sleepy")].umap
    lo, hi = sil[(0, "all")].umap_interval
    assert lo <= hi and len(sil[(0, "all")].umap_per_seed) == 2
    # within each voice too: layer 0's emotions separate for every speaker, layer 31's for none
    within = {(x.layer, x.speaker): x for x in result.per_speaker}
    assert {w for (layer, w) in within if layer == 0} == {"s1", "s2", "s3"}
    assert all(within[(0, w)].original > 0.6 and within[(31, w)].original < 0.2 for w in ("s1", "s2", "s3"))
    # chance: the same points with the labels shuffled separate about as well as nothing
    mean, upper = sil[(0, "all")].null_original
    assert mean < upper < 0.2 < sil[(0, "all")].original  # shuffled labels on clustered points: mean below 0
    verdicts = q06_umap.judge(measured(result, n), small(spec))
    assert {k: v.verdict for k, v in verdicts.items()} == {
        "A": "true", "B": "true", "C": "false", "D": "true", "E": "true", "F": "true", "G": "false", "H": "true"}
    assert "arXiv:1802.03426" in verdicts["A"].why and "Verified on the 4 figures" in verdicts["B"].why
    decision = q06_umap.decide(Evidence("q06", measured(result, n), verdicts, ""), small(spec))
    assert decision.status == "computed" and decision.correct == ("A", "B", "D", "E", "F", "H")
    # deciding on the original vectors instead gives the same answer here
    orig = small(spec, decide_on="original")
    assert q06_umap.decide(Evidence("q06", measured(result, n), {}, ""), orig).correct == decision.correct


@pytest.mark.slow
def test_a_threshold_moved_past_the_data_flips_the_claims(spec, synthetic):
    result, n = synthetic
    strict = small(spec, subset_separated_min=0.99, within_speaker_separated_min=0.99, undecided_band=0.01)
    verdicts = q06_umap.judge(measured(result, n), strict)
    # below both lines now, but far beyond chance: not "false" (that needs no structure at all), a TA's review
    for x in ("E", "H"):
        assert (verdicts[x].verdict, verdicts[x].lean) == ("undecided", "false")
        assert "beats chance: weak structure that the plot may show" in verdicts[x].why


def stat(layer, subset, umap, per_seed, interval, original=0.0, within=None, null=(0.0, 0.05),
         null_within=(0.0, 0.05)):
    """A hand-made statistic; the silhouette within speakers defaults to the pooled one."""
    w = umap if within is None else within
    return SeparationStat(layer, subset, 24, original, [original, original], umap, per_seed, interval,
                          [0.0, 0.05], list(null), within=w, within_umap=w, within_umap_per_seed=[w] * 3,
                          null_within=list(null_within), null_within_umap=list(null_within))


def hand_measured(stats, gaps=(), pesq=3.5, **kw) -> UmapMeasured:
    base = dict(folder="x", per_class=8, clips=40, clip_counts={}, model_layers=32, layers=[0, 6, 16, 31],
                layers_missing=[], decide_on="umap", umap_seeds=[0, 1, 2], stats=list(stats), gaps=list(gaps),
                plots=[], codec_check=[CodecCheck("c", pesq)], codec_best_pesq=pesq)
    base.update(kw)
    return UmapMeasured(**base)


def test_undecided_band_and_fragile_claims_are_not_decided(spec):
    sub = "amused+angry+sleepy"
    # 0.26 is within ±0.03 of 0.25: undecided
    v = q06_umap.judge(hand_measured([stat(0, sub, 0.26, [0.26] * 3, [0.25, 0.27])]), spec)["E"]
    assert v.verdict == "undecided" and "undecided band" in v.why
    # clearly above by the median, but one seed below the threshold: FRAGILE, so not decided (the audit's rule)
    v = q06_umap.judge(hand_measured([stat(0, sub, 0.35, [0.2, 0.35, 0.4], [0.3, 0.4])]), spec)["E"]
    assert v.verdict == "undecided" and "FRAGILE, so not decided (true by the median)" in v.why
    assert "seeds disagree (2/3" in v.why and v.margin is None
    # clearly below, interval straddling the threshold: FRAGILE too
    v = q06_umap.judge(hand_measured([stat(0, sub, 0.1, [0.1] * 3, [0.05, 0.3])]), spec)["E"]
    assert v.verdict == "undecided" and "straddles 0.25" in v.why
    # stable: decided, no mark
    v = q06_umap.judge(hand_measured([stat(0, sub, 0.6, [0.6] * 3, [0.55, 0.65])]), spec)["E"]
    assert v.verdict == "true" and "FRAGILE" not in v.why
    gap = GapStat(0, 31, "all", 0.0, [0.0, 0.0], 0.2, [0.25, 0.15, 0.2], [0.1, 0.3])
    v = q06_umap.judge(hand_measured([], [gap]), spec)["D"]
    assert v.verdict == "true" and v.margin == pytest.approx(0.15)
    assert q06_umap.judge(hand_measured([], [gap]), spec)["C"].verdict == "undecided"  # no (31, 0) gap measured


def test_separated_claims_are_held_against_chance(spec):
    """A silhouette of 0.35 clears 0.25, but with few points shuffled labels can do as well: not decided then."""
    sub = "amused+angry+sleepy"
    small_n = SeparationStat(0, sub, 9, 0.0, [0.0, 0.0], 0.35, [0.35] * 3, [0.3, 0.4], [0.0, 0.0], [0.1, 0.4])
    v = q06_umap.judge(hand_measured([small_n]), spec)["E"]
    assert v.verdict == "undecided" and "not above chance (labels shuffled): mean 0.100, upper quantile 0.400" in v.why
    plenty = SeparationStat(0, sub, 120, 0.0, [0.0, 0.0], 0.35, [0.35] * 3, [0.3, 0.4], [0.0, 0.0], [0.0, 0.08],
                            within=0.4, within_umap=0.4, within_umap_per_seed=[0.4] * 3, null_within=[0.0, 0.1],
                            null_within_umap=[0.0, 0.1])
    v = q06_umap.judge(hand_measured([plenty]), spec)["E"]
    assert v.verdict == "true" and "chance (labels shuffled): mean 0.000, upper quantile 0.080" in v.why
    assert "chance within speakers (labels shuffled in each): mean 0.000, upper quantile 0.100" in v.why
    # without the within-speaker measure (no speaker with two of the classes) the claim cannot be decided
    v = q06_umap.judge(hand_measured([replace(plenty, within=None, within_umap=None)]), spec)["E"]
    assert v.verdict == "undecided" and "within speakers: not measured" in v.why


# pooled, within speakers (UMAP medians), their chance levels' upper quantiles → E's verdict and lean
@pytest.mark.parametrize("pooled, within, null, null_within, verdict, lean", [
    # the audit's case: the voices dominate the pooled silhouette, the emotions separate inside each voice → review
    (0.10, 0.45, 0.05, 0.08, "undecided", None),
    # both low and at chance: no emotion structure anywhere → false
    (0.03, 0.04, 0.05, 0.08, "false", None),
    # both below their lines, but the pooled one beats chance: weak structure the plot may show → review
    (0.12, 0.04, 0.05, 0.08, "undecided", "false"),
    # both clearly above their lines and chance → true
    (0.45, 0.50, 0.05, 0.08, "true", None),
    # pooled high, within speakers at chance (the speakers, not the emotions, separate) → review
    (0.45, 0.05, 0.05, 0.08, "undecided", None),
])
def test_separates_is_decided_pooled_and_within_speakers(spec, pooled, within, null, null_within, verdict, lean):
    sub = "amused+angry+sleepy"
    s = stat(0, sub, pooled, [pooled] * 3, [pooled - 0.02, pooled + 0.02], within=within, null=(0.0, null),
             null_within=(0.0, null_within))
    v = q06_umap.judge(hand_measured([s]), spec)["E"]
    assert (v.verdict, v.lean) == (verdict, lean), v.why
    assert f"within speakers {within:.3f}" in v.why and f"silhouette(umap, layer 0, {sub}) = {pooled:.3f}" in v.why
    if verdict == "false":
        assert "no structure beyond chance" in v.why and v.margin == pytest.approx(min(null - pooled,
                                                                                         null_within - within))
    if (pooled, within) == (0.10, 0.45):
        assert "the measures disagree (speaker identity can dominate a pooled silhouette)" in v.why


def test_complementary_layer_claims_are_never_both_false(spec):
    """C (layer 31 separates better) and D (layer 0 better) are complements: a gap of 0.01 either way is below
    layer_gap_min for both, which the old rule called "C false, D false"; decided together, both stay open."""
    small_gap = [GapStat(31, 0, "all", 0.0, [0.0, 0.0], 0.01, [0.01] * 3, [0.005, 0.015]),
                 GapStat(0, 31, "all", 0.0, [0.0, 0.0], -0.01, [-0.01] * 3, [-0.015, -0.005])]
    v = q06_umap.judge(hand_measured([], small_gap), spec)
    assert v["C"].verdict == v["D"].verdict == "undecided"
    assert "decided together with its complement D and both false" in v["C"].why
    assert "never both false" in v["D"].why
    clear = [GapStat(31, 0, "all", 0.0, [0.0, 0.0], 0.3, [0.3] * 3, [0.25, 0.35]),
             GapStat(0, 31, "all", 0.0, [0.0, 0.0], -0.3, [-0.3] * 3, [-0.35, -0.25])]
    v = q06_umap.judge(hand_measured([], clear), spec)
    assert (v["C"].verdict, v["D"].verdict) == ("true", "false")


@pytest.mark.slow
def test_gates_keep_untrained_or_small_models_pending(spec, synthetic):
    result, n = synthetic
    m = measured(result, n, pesq=1.05)
    verdicts = q06_umap.judge(m, small(spec))
    assert all(verdicts[x].verdict == "undecided" and "PESQ" in verdicts[x].why for x in "CDEFGH")
    assert verdicts["A"].verdict == "true"
    d = q06_umap.decide(Evidence("q06", m, verdicts, ""), small(spec))
    assert d.status == "pending" and "codec_works_pesq_min 1.5" in d.reason
    m = measured(result, n, pesq=None)
    m.codec_check = [CodecCheck("bea/x.wav", None, "all_zero_output")]
    assert "all_zero_output" in q06_umap.decide(Evidence("q06", m, {}, ""), small(spec)).reason
    m = measured(result, n, layers_missing=(6, 16, 31), model_layers=4)
    verdicts = q06_umap.judge(m, small(spec))
    assert "layer 31 not in this model (4 code layers)" in verdicts["C"].why
    assert "layer 6 not in this model" in verdicts["G"].why and verdicts["E"].verdict == "true"
    d = q06_umap.decide(Evidence("q06", m, verdicts, ""), small(spec))
    assert d.status == "pending" and "needs layers 6, 16, 31" in d.reason


def test_scatter_colours_one_label_per_colour(tmp_path):
    rng = np.random.default_rng(3)
    labels = ["sleepy", "amused", "amused", "angry", "sleepy", "sleepy"]
    info = scatter(rng.normal(size=(6, 2)), labels, LABELS, "Layer 6: test", tmp_path / "p.png")
    assert Path(info.path).stat().st_size > 1000 and info.title == "Layer 6: test"
    assert info.legend == ["amused", "angry", "sleepy"]
    assert info.points_per_entry == {"amused": 2, "angry": 1, "sleepy": 3}
    assert info.one_colour_per_label and len(set(info.colours.values())) == 3


# -- with a model -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def architecture(one_torch_thread):
    return load_mimi(MimiSource("architecture", device="cpu", seed=0))


@pytest.fixture(scope="module")
def tiny(one_torch_thread):
    return load_mimi(MimiSource(str(TINY), device="cpu"))


def ctx_for(codec, tmp_path, **kw) -> CheckContext:
    return CheckContext(assets=ROOT / "fixtures" / "assets", models={"mimi": LazyModel.ready("mimi", codec)},
                        evidence_dir=tmp_path / "ev", **kw)


def test_batched_encoding_equals_one_clip_at_a_time(tiny):
    rng = np.random.default_rng(0)
    clips = [(0.1 * rng.normal(size=n)).astype(np.float32) for n in (24000, 30001, 19000, 36100, 4000)]
    naive = encode_naive(tiny, clips, 4)
    batched = encode_batched(tiny, clips, 4, batch_size=2)
    assert [c.shape[-1] for c in batched] == [13, 16, 10, 19, 3]
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(naive, batched))
    bench = bench_encoding(tiny, clips, 4, batch_size=8)
    assert bench.identical and bench.clips == 5 and bench.naive_s > 0 and bench.batched_s > 0


@pytest.mark.slow
def test_compute_on_the_replica_with_the_full_size_architecture(spec, architecture, tmp_path):
    ev = q06_umap.compute(ctx_for(architecture, tmp_path, emovdb_per_class=3), small(spec, codec_check_clips=2))
    m = ev.measured
    assert (m.clips, m.per_class, m.layers, m.layers_missing) == (15, 3, [0, 6, 16, 31], [])
    # the same speakers in every emotion: josh (no angry/disgusted clips) left out, and the evidence says so
    assert m.speakers_left_out == {"josh": ["angry", "disgusted"]}
    assert all(set(per) == {"bea", "jenie", "sam"} for per in m.clip_counts.values())
    assert any(n.startswith("speaker josh left out: no angry, disgusted clips") for n in ev.notes)
    # one clip per speaker and emotion: no within-speaker silhouette can be computed (it needs two per cell)
    assert m.per_speaker == []
    assert {(s.layer, s.subset) for s in m.stats} >= {(31, "all"), (6, "amused+angry"), (0, "amused+angry+sleepy")}
    for layer in (0, 6, 16, 31):
        png = tmp_path / "ev" / "q06" / f"umap_layer{layer:02d}.png"
        assert png.stat().st_size > 1000
    assert all(p.one_colour_per_label and f"Layer {p.layer}:" in p.title for p in m.plots)
    assert len(m.codec_check) == 2 and m.codec_best_pesq is not None and m.codec_best_pesq < 1.5
    decision = q06_umap.decide(ev, small(spec))  # random weights: gated, never a confident answer
    assert decision.status == "pending" and "untrained or fixture weights" in decision.reason
    assert "EmoV-DB clips (3/emotion)" in ev.summary and "L31" in ev.summary
    assert "q06" in ev.to_yaml()


@pytest.mark.slow
def test_compute_with_the_tiny_fixture_reports_missing_layers(spec, tiny, tmp_path):
    ev = q06_umap.compute(ctx_for(tiny, tmp_path, emovdb=REPLICA, emovdb_per_class=2),
                          small(spec, umap_seeds=1, bootstrap=5, codec_check_clips=1))
    m = ev.measured
    assert (m.model_layers, m.layers, m.layers_missing) == (4, [0], [6, 16, 31])
    assert any("layers 6, 16, 31 cannot be measured" in n for n in ev.notes)
    assert q06_umap.decide(ev, spec).status == "pending"


def test_bad_emovdb_folders_make_q06_pending_with_the_reason(spec, tiny, tmp_path):
    bad = tmp_path / "notemovdb"
    bad.mkdir()
    shutil.copy(ROOT / "fixtures" / "assets" / "2sAudio.wav", bad / "clip.wav")
    partial = tmp_path / "partial"
    shutil.copytree(REPLICA, partial)
    for p in partial.rglob("disgust_*.wav"):
        p.unlink()
    cases = [(dict(emovdb=bad), "is not EmoV-DB"),
             (dict(emovdb=partial, emovdb_per_class=2), "no disgusted clips"),
             (dict(emovdb=REPLICA, emovdb_per_class=50), "fewer clips than --per-class 50"),
             (dict(emovdb=tmp_path / "missing"), "no such folder")]
    for kw, message in cases:
        ctx = CheckContext(assets=None, models={"mimi": LazyModel.ready("mimi", tiny)}, **kw)
        outcome = run_question(spec, ctx)
        assert outcome.status == "pending" and outcome.blocked_by == "asset", outcome
        assert message in outcome.reason
    ctx = CheckContext(assets=tmp_path, models={"mimi": LazyModel.ready("mimi", tiny)})
    assert "emovdb/ not found in" in run_question(spec, ctx).reason


@pytest.mark.slow
def test_bench_stages_for_umap_and_pesq():
    from checks.bench.q06 import bench_pesq, bench_umap

    umap_row = bench_umap(points=40, dim=16)
    assert umap_row.naive_s is None and 0 < umap_row.ours_s and "first fit" in umap_row.note
    pesq_row = bench_pesq(seconds=1.0)
    assert 0 < pesq_row.ours_s < 5
