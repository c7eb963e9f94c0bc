"""checks.metrics.wer: Whisper English normalisation, WER with jiwer, candidate ranking (real normaliser,
real jiwer)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("jiwer")
pytest.importorskip("whisper_normalizer")

import yaml  # noqa: E402

from checks.metrics.wer import WerError, english_normalizer, normalize, rank_candidates, wer, wer_matrix  # noqa: E402

Q09 = Path(__file__).resolve().parents[3] / "questions" / "q09.yaml"


@pytest.fixture(scope="module")
def norm():
    return english_normalizer()


@pytest.fixture(scope="module")
def q09_options() -> dict[str, str]:
    return {o["id"]: o["value"] for o in yaml.safe_load(Q09.read_text(encoding="utf-8"))["options"]}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Generative AI is so much fun, and every experiment feels like discovering a brand-new world of ideas.",
         "generative ai is so much fun and every experiment feels like discovering a brand new world of ideas"),
        ("  HELLO,   World!! ", "hello world"),                 # case, punctuation, whitespace
        ("I have twenty five cats and one hundred dogs", "i have 25 cats and 100 dogs"),  # numbers to digits
        ("I have 25 cats", "i have 25 cats"),
        ("The colour of the theatre", "the color of the theater"),   # British to American spelling
        ("It's what we're doing", "it is what we are doing"),       # contractions
        ("[laughs] um, hello (background noise) uh there", "hello there"),  # asides and fillers
        ("Wait... what? It costs 3.5 dollars…", "wait what it costs 3.5 dollars"),  # lone dots dropped, decimals kept
    ],
)
def test_normalize(norm, raw, expected):
    assert normalize(raw, norm) == expected


def test_wer_ignores_case_punctuation_and_number_spelling(norm):
    assert wer("Twenty-five dollars, please.", "twenty five dollars please", norm) == 0.0
    assert wer("I have 2 cats.", "i have two cats", norm) == 0.0
    assert wer("Brand-new world!", "brand new world", norm) == 0.0


def test_wer_counts_edits(norm):
    assert wer("the cat sat down", "the dog sat down", norm) == pytest.approx(0.25)
    assert wer("the cat sat down", "the cat sat", norm) == pytest.approx(0.25)
    assert wer("the cat", "the big fat cat", norm) == pytest.approx(1.0)  # insertions can push it to/over 1
    assert wer("a b", "c d e f", norm) == pytest.approx(2.0)


def test_wer_without_explicit_normalizer_matches():
    assert wer("Hello, World", "hello world") == 0.0


def test_empty_hypothesis_is_total_deletion(norm):
    assert wer("the cat sat", "", norm) == 1.0
    assert wer("the cat sat", "...", norm) == 1.0


def test_empty_reference_refused(norm):
    with pytest.raises(WerError, match="empty after normalisation"):
        wer("", "hello", norm)
    with pytest.raises(WerError, match=r"'\?!'"):
        wer("?!", "hello", norm)


def test_wer_matrix_matches_wer(norm):
    refs = ["the cat sat", "a dog ran away"]
    hyps = ["the cat sat", "a dog ran", "nothing alike"]
    m = wer_matrix(refs, hyps, norm)
    assert len(m) == 3 and all(len(row) == 2 for row in m)
    for i, h in enumerate(hyps):
        for j, r in enumerate(refs):
            assert m[i][j] == pytest.approx(wer(r, h, norm))


def test_rank_candidates_picks_the_sentence_despite_asr_errors(norm, q09_options):
    # a real tiny.en transcript of option B spoken by espeak-ng (fun → "memory", of → "on")
    heard = "Generative AI is so much fun and memory experiment feels like discovering a brand new world on ideas."
    r = rank_candidates(heard, q09_options, norm)
    assert r.best.key == "B"
    assert [c.key for c in r.ranked][0] == "B" and len(r.ranked) == 4
    assert r.ranked == tuple(sorted(r.ranked, key=lambda c: c.wer))
    assert r.best.wer == pytest.approx(2 / 18)  # 2 substitutions in 18 normalised words
    assert r.margin == pytest.approx(r.ranked[1].wer - r.ranked[0].wer)
    assert r.margin > 0.4
    assert r.hypothesis_normalized.startswith("generative ai is so much fun")


def test_rank_candidates_ties_keep_input_order_and_margin_zero(norm):
    r = rank_candidates("hello there", ["hello world", "hello earth", "goodbye"], norm)
    assert [c.key for c in r.ranked] == ["0", "1", "2"]
    assert r.margin == 0.0
    assert r.best.text == "hello world"


def test_rank_candidates_single_and_empty(norm):
    assert rank_candidates("hi", {"only": "hi"}, norm).margin is None
    with pytest.raises(WerError, match="no candidate"):
        rank_candidates("hi", [], norm)
    with pytest.raises(WerError, match="candidate X"):
        rank_candidates("hi", {"A": "hello", "X": "..."}, norm)
