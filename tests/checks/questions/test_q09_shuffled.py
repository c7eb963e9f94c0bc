"""q09 (the shuffled 4-layer codes) with real components, no mocks.

* The order convention against the homework's own recipe (``torch.randperm`` + ``index_select``).
* The permutation search on the tiny fixture Mimi: its weights are random, so its decodes are noise
  and **no ASR can judge them**; the search is scored here by a signal-level reference instead (each
  order's decode against the decode of the unshuffled codes) and must return the planted order.
* The decision on hand-made WER tables whose truth is known, and once on real tiny.en transcripts.
* Every bad codes file, each refused with the file named.
* ``hw10 key --questions 9-10 --mimi fixtures/tiny_mimi …`` end to end: evidence, heat map, audio, and the
  intelligibility gate keeping q09 pending (fixture weights); q10 pending because the fixture has 4 layers.
"""
from __future__ import annotations

import contextlib
import io
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import fixture_script

from checks.evidence import Evidence
from checks.models.mimi import MimiSource, load_mimi
from checks.questions import q09_shuffled
from checks.questions.layers import (
    CodesFileError,
    all_orders,
    apply_order,
    inverse_permutation,
    load_codes_file,
    order_text,
    shuffle_layers,
)
from checks.questions.q09_shuffled import OrderRow, ShuffledMeasured, decode_orders, judge, rank_pairs
from grader.key import load_key
from grader.spec import load_bank
from hw10.cli import main

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "fixtures" / "assets"
TINY = ROOT / "fixtures" / "tiny_mimi"
CODES = ASSETS / "audio_codes_shuffled.pt"
RECORD = json.loads((ASSETS / "audio_codes_shuffled.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def spec():
    return load_bank(ROOT / "questions")["q09"]


@pytest.fixture(scope="module")
def script():
    return fixture_script("make_shuffled_codes")


@pytest.fixture(scope="module")
def codec():
    """The committed 4-layer fixture Mimi (random weights), through the TA-folder loading path."""
    return load_mimi(MimiSource(str(TINY), device="cpu"))


@pytest.fixture(scope="module")
def source(script, codec):
    """The unshuffled codes the fixture file was made from, re-encoded: [1, 4, T]."""
    return script.source_codes(RECORD["option"], TINY)[1]


# ----------------------------------------------------------------------------- the order convention


def test_convention_on_the_slides_example():
    """Slide: perm = [2, 0, 3, 1] turns [L0, L1, L2, L3] into [L2, L0, L3, L1]; the guess undoing it is [1, 3, 0, 2]."""
    codes = torch.arange(4).view(1, 4, 1).expand(1, 4, 3)  # row i holds the value i: "layer i"
    shuffled = shuffle_layers(codes, [2, 0, 3, 1])
    assert shuffled[0, :, 0].tolist() == [2, 0, 3, 1]
    assert inverse_permutation([2, 0, 3, 1]) == (1, 3, 0, 2)
    assert torch.equal(apply_order(shuffled, [1, 3, 0, 2]), codes)
    assert not torch.equal(apply_order(shuffled, [2, 0, 3, 1]), codes)  # perm itself is not the guess


@pytest.mark.parametrize("seed", range(6))
def test_guess_is_the_inverse_of_the_homeworks_randperm(seed):
    codes = torch.randint(0, 2048, (1, 4, 7), generator=torch.Generator().manual_seed(seed))
    perm = torch.randperm(4, generator=torch.Generator().manual_seed(100 + seed))
    shuffled = codes.index_select(1, perm)  # exactly the homework's line
    guess = inverse_permutation(perm.tolist())
    assert torch.equal(apply_order(shuffled, guess), codes)
    assert list(inverse_permutation(guess)) == perm.tolist()
    right = [g for g in all_orders(4) if torch.equal(apply_order(shuffled, g), codes)]
    assert right == [guess]  # codes with distinct rows: exactly one of the 24 guesses restores them


def test_all_orders_and_labels():
    orders = all_orders(4)
    assert len(orders) == 24 == len(set(orders)) and orders[0] == (0, 1, 2, 3)
    assert order_text((2, 0, 3, 1)) == "2031"
    with pytest.raises(ValueError, match="not a permutation"):
        inverse_permutation([0, 0, 1, 2])
    with pytest.raises(ValueError, match="not a permutation"):
        apply_order(torch.zeros(1, 4, 2, dtype=torch.long), [0, 1, 2])


# ----------------------------------------------------------------------------- the fixture file


def test_fixture_record_matches_the_homeworks_recipe(script):
    assert RECORD["perm"] == script.planted_perm(RECORD["seed"]) == torch.randperm(
        4, generator=torch.Generator().manual_seed(RECORD["seed"])).tolist()
    assert RECORD["guess"] == list(inverse_permutation(RECORD["perm"]))
    assert RECORD["perm"] != RECORD["guess"], "the planted perm must not be its own inverse (it would hide a mix-up)"
    loaded = load_codes_file(CODES, 4, 2048)
    assert list(loaded.codes.shape) == RECORD["shape"] and loaded.stored_dtype == "torch.int64"


@pytest.mark.slow
def test_fixture_file_is_the_source_codes_shuffled(source):
    shuffled = load_codes_file(CODES, 4, 2048).codes
    restored = apply_order(shuffled, RECORD["guess"])
    assert restored.shape == source.shape
    agreement = float((restored == source).float().mean())
    assert agreement > 0.99, agreement  # re-encoding on another CPU may flip a rare near-tie


# ----------------------------------------------------------------------------- the search, signal-level


def signal_distance(decodes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Normalised squared error of each decode against the reference decode (0 = identical)."""
    return ((decodes - reference) ** 2).sum(axis=1) / (reference ** 2).sum()


@pytest.mark.slow
def test_search_returns_the_planted_order_of_the_fixture_file(codec, source):
    """Random codec weights: ASR hears nothing in any order, so the reference is the decode of the unshuffled
    codes, and the planted guess must be the one (and only one) order that reproduces it."""
    shuffled = load_codes_file(CODES, 4, 2048).codes
    orders = all_orders(4)
    decodes = decode_orders(codec, shuffled, orders)
    assert decodes.shape == (24, source.shape[-1] * codec.hop)
    reference = codec.decode(source)[0]
    d = signal_distance(decodes, reference)
    best = int(np.argmin(d))
    assert list(orders[best]) == RECORD["guess"], (orders[best], RECORD)
    assert d[best] < 1e-3, d[best]
    assert np.sort(d)[1] > 0.05, np.sort(d)[:3]  # every wrong order decodes to something clearly different


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 7])
def test_search_finds_fresh_randperms(codec, source, seed):
    perm = torch.randperm(4, generator=torch.Generator().manual_seed(seed))
    shuffled = source.index_select(1, perm)
    orders = all_orders(4)
    d = signal_distance(decode_orders(codec, shuffled, orders), codec.decode(source)[0])
    assert orders[int(np.argmin(d))] == inverse_permutation(perm.tolist())


@pytest.mark.slow
def test_batched_decode_equals_one_order_at_a_time(codec):
    """What `hw10 bench` compares: the batched decode gives each order the audio it gets alone."""
    shuffled = load_codes_file(CODES, 4, 2048).codes
    orders = all_orders(4)[::5]
    batched = decode_orders(codec, shuffled, orders)
    for i, g in enumerate(orders):
        np.testing.assert_allclose(batched[i], decode_orders(codec, shuffled, [g])[0], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_decode_many_in_chunks_equals_one_call(codec):
    from checks.models.batching import decode_many, describe_batch
    from checks.questions.layers import orders_batch

    codes = orders_batch(load_codes_file(CODES, 4, 2048).codes, all_orders(4)[:5])
    whole = decode_many(codec, codes, 5)
    np.testing.assert_allclose(decode_many(codec, codes, 2), whole, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(decode_many(codec, codes), whole, rtol=1e-4, atol=1e-4)  # CPU default: 1 per call
    assert describe_batch(codec, 5) == "decode 1/call" and describe_batch(codec, 5, 8) == "decode 5 in 1 call"
    with pytest.raises(ValueError, match="at least 1"):
        decode_many(codec, codes, 0)


def test_decode_batch_default_follows_the_device():
    """One item per call on a CPU, everything in one call on an accelerator (checks/models/batching.py's table).
    No GPU here: the codec is a stand-in carrying only the ``device`` the rule reads."""
    from types import SimpleNamespace

    import torch

    from checks.models.batching import items_per_call

    assert items_per_call(SimpleNamespace(device=torch.device("cpu")), 24) == 1
    assert items_per_call(SimpleNamespace(device=torch.device("cuda", 0)), 24) == 24
    assert items_per_call(SimpleNamespace(device="cuda:1"), 9) == 9
    assert items_per_call(SimpleNamespace(device=torch.device("cpu")), 24, 4) == 4
    assert items_per_call(SimpleNamespace(device=torch.device("cuda")), 3, 8) == 3
    # q06's encodes: the spec's batch size on a GPU, still one per call on a CPU
    assert items_per_call(SimpleNamespace(device=torch.device("cuda")), 30, accelerator_batch=16) == 16
    assert items_per_call(SimpleNamespace(device=torch.device("cpu")), 30, accelerator_batch=16) == 1
    with pytest.raises(ValueError, match="accelerator batch must be at least 1"):
        items_per_call(SimpleNamespace(device="cuda"), 30, accelerator_batch=0)


def test_wavs_beyond_full_scale_are_scaled_down_and_noted(tmp_path):
    import soundfile as sf

    from checks.questions.layer_artifacts import scaling_note, write_wav

    loud = np.linspace(-36.0, 36.0, 2400, dtype=np.float32)
    quiet = 0.5 * np.sin(np.arange(2400, dtype=np.float32) / 10)
    gains = {"loud.wav": write_wav(tmp_path / "loud.wav", loud, 24000),
             "quiet.wav": write_wav(tmp_path / "quiet.wav", quiet, 24000)}
    assert gains["quiet.wav"] == 1.0 and gains["loud.wav"] == pytest.approx(0.99 / 36)
    back, rate = sf.read(str(tmp_path / "loud.wav"))
    assert rate == 24000 and np.abs(back).max() == pytest.approx(0.99, abs=1e-3)
    np.testing.assert_allclose(sf.read(str(tmp_path / "quiet.wav"))[0], quiet, atol=1e-4)
    assert scaling_note(gains) == ["decoded audio peaked above full scale in loud.wav: written scaled down by 0.0275"]


# ----------------------------------------------------------------------------- bad files


class _Exploit:
    marker: Path | None = None

    def __reduce__(self):
        return (Path.write_text, (self.marker, "executed"))


def _bad(tmp_path: Path, name: str, obj=None, raw: bytes | None = None) -> Path:
    p = tmp_path / name
    if raw is not None:
        p.write_bytes(raw)
    else:
        torch.save(obj, str(p))
    return p


@pytest.mark.parametrize("make, message", [
    (lambda t: _bad(t, "dict.pt", {"codes": torch.zeros(1, 4, 3, dtype=torch.long)}), "holds a dict, not a tensor"),
    (lambda t: _bad(t, "list.pt", [torch.zeros(1, 4, 3, dtype=torch.long)]), "holds a list, not a tensor"),
    (lambda t: _bad(t, "numpy.pt", np.zeros((1, 4, 3), dtype=np.int64)), "refused: the pickle holds something"),
    (lambda t: _bad(t, "shape2d.pt", torch.zeros(4, 3, dtype=torch.long)), r"shape \[4, 3\]; expected \[1, 4, T\]"),
    (lambda t: _bad(t, "layers3.pt", torch.zeros(1, 3, 5, dtype=torch.long)), r"shape \[1, 3, 5\]"),
    (lambda t: _bad(t, "batch2.pt", torch.zeros(2, 4, 5, dtype=torch.long)), r"shape \[2, 4, 5\]"),
    (lambda t: _bad(t, "empty_t.pt", torch.zeros(1, 4, 0, dtype=torch.long)), r"shape \[1, 4, 0\]"),
    (lambda t: _bad(t, "high.pt", torch.full((1, 4, 5), 2048)), r"outside 0…2047 \(min 2048, max 2048\)"),
    (lambda t: _bad(t, "negative.pt", torch.tensor([[[-1, 0], [0, 0], [0, 0], [0, 0]]])), r"1 values outside 0…2047"),
    (lambda t: _bad(t, "float.pt", torch.zeros(1, 4, 5)), "torch.float32 values; Mimi codes are integers"),
    (lambda t: _bad(t, "bool.pt", torch.zeros(1, 4, 5, dtype=torch.bool)), "torch.bool values"),
    (lambda t: _bad(t, "text.pt", raw=b"hello, not a tensor"), "not a torch.save file"),
    (lambda t: _bad(t, "empty.pt", raw=b""), "not a torch.save file"),
    (lambda t: _bad(t, "pickle.pt", raw=pickle.dumps({"a": 1})), "refused: the pickle holds something"),
])
def test_bad_codes_files_are_refused_naming_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CodesFileError, match=message) as err:
        load_codes_file(path, 4, 2048)
    assert str(path) in str(err.value)


def test_a_pickle_with_code_in_it_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned.txt"
    _Exploit.marker = marker
    path = tmp_path / "exploit.pt"
    torch.save(_Exploit(), str(path))
    with pytest.raises(CodesFileError, match="refused: the pickle holds something other than tensors") as err:
        load_codes_file(path, 4, 2048)
    assert "Unsupported global" in str(err.value) and str(path) in str(err.value)
    assert not marker.exists()


def test_missing_file(tmp_path):
    with pytest.raises(CodesFileError, match="file not found"):
        load_codes_file(tmp_path / "nope.pt", 4, 2048)


def test_other_integer_dtypes_are_accepted_as_int64(tmp_path):
    p = _bad(tmp_path, "int16.pt", torch.tensor([[[0], [1], [2047], [5]]], dtype=torch.int16))
    loaded = load_codes_file(p, 4, 2048)
    assert loaded.codes.dtype == torch.int64 and loaded.stored_dtype == "torch.int16"
    assert loaded.codes[0, :, 0].tolist() == [0, 1, 2047, 5]


# ----------------------------------------------------------------------------- the decision, on known tables


def table(spec, best: dict[tuple[int, ...], dict[str, float]], default: float = 1.0,
          logprob: dict[tuple[int, ...], float] | None = None) -> ShuffledMeasured:
    """24 rows, every WER ``default`` except the (order → {letter: wer}) given."""
    rows = []
    for g in all_orders(4):
        wer = {x: default for x in spec.letters}
        wer.update(best.get(g, {}))
        rows.append(OrderRow(order=list(g), perm=list(inverse_permutation(g)), transcript="…", wer=wer,
                             avg_logprob=(logprob or {}).get(g, -1.0)))
    return ShuffledMeasured(file="audio_codes_shuffled.pt", shape=[1, 4, 75], dtype="torch.int64", code_min=0,
                            code_max=2047, sample_rate=24000, rows=rows)


def decide(spec, m):
    return q09_shuffled.decide(Evidence("q09", m, judge(m, spec), ""), spec)


def test_clear_winner(spec):
    m = table(spec, {(2, 0, 3, 1): {"B": 0.05, "A": 0.8, "C": 0.75, "D": 0.9}}, default=0.95)
    d = decide(spec, m)
    assert (d.status, d.correct) == ("computed", ("B",))
    assert d.verdicts["B"].verdict == "true" and "order [2, 0, 3, 1]" in d.verdicts["B"].why
    assert {d.verdicts[x].verdict for x in "ACD"} == {"false"}
    # margin: min(0.35 - 0.05, (0.75 - 0.05) - 0.15) over B, and the false options' distance past 0.15
    assert d.margin == pytest.approx(0.30)
    r = rank_pairs(m.rows, spec.letters)
    assert (r.best_option, r.best_orders, r.runner_up_option) == ("B", [[2, 0, 3, 1]], "C")
    assert r.margin == pytest.approx(0.70) and r.next_order_wer == pytest.approx(0.95)


def test_nothing_intelligible_is_pending_not_meaningful(spec):
    m = table(spec, {(0, 1, 2, 3): {"A": 0.6}}, default=1.0)
    d = decide(spec, m)
    assert d.status == "pending" and d.reason.startswith("not meaningful: nothing intelligible")
    assert "0.60 > intelligible_wer_max 0.35" in d.reason
    assert {v.verdict for v in d.verdicts.values()} == {"undecided"}


def test_runner_up_too_close_is_pending(spec):
    m = table(spec, {(1, 0, 2, 3): {"A": 0.10}, (3, 2, 1, 0): {"D": 0.20}})
    d = decide(spec, m)
    assert d.status == "pending" and d.verdicts["A"].verdict == "undecided" and d.verdicts["D"].verdict == "undecided"
    assert d.verdicts["B"].verdict == "false"
    assert "only 0.10 ahead of option D" in d.verdicts["A"].why
    # what a TA's review starts from: the better sentence leans true, the close runner-up false
    assert (d.verdicts["A"].lean, d.verdicts["D"].lean) == ("true", "false")


def test_tie_between_sentences_is_pending(spec):
    d = decide(spec, table(spec, {(0, 1, 2, 3): {"C": 0.1, "D": 0.1}}))
    assert d.status == "pending" and d.correct == ()
    assert d.verdicts["C"].lean is None and d.verdicts["D"].lean is None  # an exact tie leans no way


def test_orders_tied_on_wer_are_listed_most_confident_first(spec):
    m = table(spec, {(0, 1, 2, 3): {"C": 0.0}, (0, 1, 3, 2): {"C": 0.0}},
              logprob={(0, 1, 2, 3): -0.9, (0, 1, 3, 2): -0.2})
    r = rank_pairs(m.rows, spec.letters)
    assert r.best_orders == [[0, 1, 3, 2], [0, 1, 2, 3]]
    assert decide(spec, m).correct == ("C",)


def test_thresholds_come_from_the_spec(spec):
    m = table(spec, {(2, 0, 3, 1): {"B": 0.30}}, default=0.5)  # B ahead by 0.20
    assert decide(spec, m).correct == ("B",)
    stricter = replace(spec, thresholds={**spec.thresholds, "intelligible_wer_max": 0.25})
    assert decide(stricter, m).reason.startswith("not meaningful")
    wider = replace(spec, thresholds={**spec.thresholds, "winner_margin_min": 0.25})
    assert decide(wider, m).status == "pending"


@pytest.mark.slow
def test_real_transcripts_decide_the_planted_sentence(spec):
    """The decision on real ASR output: the planted order 'decodes' to espeak-ng speech of option C (tiny.en
    transcribes it), every other order to what tiny.en makes of silence-like noise."""
    from checks.audio import load_audio
    from checks.metrics.wer import english_normalizer, wer_matrix
    from checks.models.asr import AsrOptions, load_asr

    asr = load_asr("faster-whisper:tiny.en-bundled", AsrOptions(device="cpu", beam_size=1))
    speech = load_audio(ROOT / "fixtures" / "voices" / "q09_C.wav", 24000).samples
    noise = np.random.default_rng(0).normal(0, 0.01, 24000 * 2).astype(np.float32)
    heard = asr.transcribe([speech, noise], rate=24000)
    sentences = q09_shuffled.option_sentences(spec)
    letters = list(spec.letters)
    wers = wer_matrix([sentences[x] for x in letters], [t.text for t in heard], english_normalizer())
    planted = tuple(RECORD["guess"])
    rows = [OrderRow(list(g), list(inverse_permutation(g)), heard[0 if g == planted else 1].text,
                     dict(zip(letters, wers[0 if g == planted else 1]))) for g in all_orders(4)]
    m = ShuffledMeasured("audio_codes_shuffled.pt", [1, 4, 81], "torch.int64", 0, 2047, 24000, rows)
    d = decide(spec, m)
    assert (d.status, d.correct) == ("computed", ("C",)), (heard[0].text, d.reason)
    assert rank_pairs(rows, letters).best_orders == [list(planted)]


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def key_run(tmp_path_factory):
    """`hw10 key --questions 9-10 --mimi fixtures/tiny_mimi --asr faster-whisper:tiny.en-bundled
    --assets fixtures/assets --evidence-dir …`, run once (cache pointed at a temporary folder)."""
    tmp = tmp_path_factory.mktemp("key09")
    mp = pytest.MonkeyPatch()
    mp.setenv("HW10_CACHE", str(tmp / "cache"))
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["key", "--questions", "9-10", "--mimi", str(TINY), "--asr", "faster-whisper:tiny.en-bundled",
                       "--asr-beam", "1",
                       "--assets", str(ASSETS), "--device", "cpu", "--evidence-dir", str(tmp / "ev"),
                       "--out", str(tmp / "key.yaml")])
    finally:
        mp.undo()
    return rc, out.getvalue(), tmp


@pytest.mark.slow
def test_key_end_to_end_q09_is_gated_with_full_evidence(key_run):
    rc, out, tmp = key_run
    assert rc == 0, out
    key = load_key(tmp / "key.yaml", load_bank(ROOT / "questions"))
    q09 = key.answers["q09"]
    assert q09.status == "pending" and "not meaningful: nothing intelligible" in q09.reason
    ev = yaml.safe_load((tmp / "ev" / "q09.yaml").read_text(encoding="utf-8"))
    rows = ev["measured"]["rows"]
    assert len(rows) == 24 and {tuple(r["order"]) for r in rows} == set(all_orders(4))
    assert all(set(r["wer"]) == set("ABCD") for r in rows)
    assert all(r["perm"] == list(inverse_permutation(r["order"])) for r in rows)
    assert ev["measured"]["shape"] == [1, 4, 81]
    assert {v["verdict"] for v in ev["verdicts"].values()} == {"undecided"} and set(ev["verdicts"]) == set("ABCD")
    art = tmp / "ev" / "q09"
    assert (art / "q09_wer_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wavs = sorted(p.name for p in art.glob("*.wav"))
    assert len(wavs) == 2 and wavs[0].startswith("best_order_") and wavs[1].startswith("worst_order_")
    import soundfile as sf

    info = sf.info(str(art / wavs[0]))
    assert (info.samplerate, info.frames) == (24000, 81 * 1920)


@pytest.mark.slow
def test_key_end_to_end_q10_needs_eight_layers(key_run):
    rc, out, tmp = key_run
    key = load_key(tmp / "key.yaml", load_bank(ROOT / "questions"))
    q10 = key.answers["q10"]
    assert q10.status == "pending" and "8 code layers" in q10.reason and "has only 4" in q10.reason
