"""Word error rate between a reference text and an ASR transcript, after Whisper's English normalisation.

Both sides go through OpenAI Whisper's ``EnglishTextNormalizer`` (lower case, punctuation and
symbols removed, spelled-out numbers to digits, British to American spelling, contractions,
filler words and bracketed asides removed) before :func:`jiwer.wer` counts word edits. The
normaliser is the copy of OpenAI's ``whisper/normalizers/english.py`` (+ ``english.json``) that the
PyPI package ``whisper-normalizer`` carries, so results match what openai-whisper's own
evaluation would give; faster-whisper does not ship it and openai-whisper is not needed here.

Everything heavy (jiwer, the normaliser and its 1.7k-entry spelling table) is imported lazily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

Normalizer = Callable[[str], str]
"""A text normaliser: raw text in, normalised space-separated words out."""

NORMALIZER_NAME = "whisper EnglishTextNormalizer (whisper-normalizer)"
"""Goes into provenance next to every WER."""


class WerError(ValueError):
    """A WER that would be meaningless (e.g. a reference that normalises to nothing); the message names it."""


def english_normalizer() -> Normalizer:
    """A fresh Whisper English normaliser (about 20 ms to build: build one, reuse it for many texts)."""
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str, normalizer: Normalizer | None = None) -> str:
    """``text`` normalised by ``normalizer`` (default: Whisper's English one), whitespace collapsed.

    One addition to Whisper's normaliser: words with no letter or digit are dropped. Whisper's
    keeps a lone ``.`` for an ellipsis (``"wait..."`` → ``"wait ."``), which would count as an
    inserted word against a reference without one."""
    norm = normalizer or english_normalizer()
    return " ".join(w for w in norm(text).split() if any(ch.isalnum() for ch in w))


def _wer_normalized(reference: str, hypothesis: str, label: str) -> float:
    import jiwer

    if not reference:
        raise WerError(f"{label}: the reference text is empty after normalisation; a WER against it means nothing")
    if not hypothesis:
        return 1.0  # every reference word deleted
    return float(jiwer.wer(reference, hypothesis))


def wer(reference: str, hypothesis: str, normalizer: Normalizer | None = None) -> float:
    """Word error rate of ``hypothesis`` against ``reference``, both normalised first.

    (substitutions + deletions + insertions) / reference words: 0 is perfect, it can exceed 1.
    An empty (after normalisation) hypothesis scores 1.0; an empty reference raises :class:`WerError`."""
    norm = normalizer or english_normalizer()
    return _wer_normalized(normalize(reference, norm), normalize(hypothesis, norm), f"reference {reference!r}")


def wer_matrix(
    references: Sequence[str], hypotheses: Sequence[str], normalizer: Normalizer | None = None
) -> list[list[float]]:
    """``m[i][j]`` = WER of hypothesis ``i`` against reference ``j`` (each text normalised once)."""
    norm = normalizer or english_normalizer()
    refs = [normalize(r, norm) for r in references]
    hyps = [normalize(h, norm) for h in hypotheses]
    return [
        [_wer_normalized(r, h, f"reference {j} {references[j]!r}") for j, r in enumerate(refs)]
        for h in hyps
    ]


@dataclass(frozen=True)
class CandidateScore:
    """One candidate text's WER against a transcript."""

    key: str
    """The candidate's name (an option letter, a speaker) or its index as a string."""
    text: str
    """The candidate text as given (not normalised)."""
    wer: float
    """WER of the transcript against this candidate (the candidate is the reference)."""


@dataclass(frozen=True)
class Ranking:
    """Candidates ordered by WER against one transcript, best (lowest) first."""

    hypothesis: str
    """The transcript as given."""
    hypothesis_normalized: str
    """The transcript after normalisation (what was actually compared)."""
    ranked: tuple[CandidateScore, ...]
    """All candidates, lowest WER first; ties keep the order the candidates were given in."""

    @property
    def best(self) -> CandidateScore:
        return self.ranked[0]

    @property
    def runner_up(self) -> CandidateScore | None:
        return self.ranked[1] if len(self.ranked) > 1 else None

    @property
    def margin(self) -> float | None:
        """Runner-up WER minus best WER (0 for a tie; None with a single candidate)."""
        return None if self.runner_up is None else self.runner_up.wer - self.best.wer


def rank_candidates(
    hypothesis: str,
    candidates: Mapping[str, str] | Sequence[str],
    normalizer: Normalizer | None = None,
) -> Ranking:
    """Rank candidate texts by the WER of ``hypothesis`` against each (the candidate is the reference).

    ``candidates`` is ``{key: text}`` (e.g. option letters) or a list (keys are "0", "1", …).
    Raises :class:`WerError` for no candidates or a candidate that normalises to nothing."""
    items = (list(candidates.items()) if isinstance(candidates, Mapping)
             else [(str(i), c) for i, c in enumerate(candidates)])
    if not items:
        raise WerError("rank_candidates: no candidate texts given")
    norm = normalizer or english_normalizer()
    hyp = normalize(hypothesis, norm)
    scores = [
        CandidateScore(key, text, _wer_normalized(normalize(text, norm), hyp, f"candidate {key} {text!r}"))
        for key, text in items
    ]
    ranked = tuple(sorted(scores, key=lambda s: s.wer))  # sorted() is stable: ties keep input order
    return Ranking(hypothesis=hypothesis, hypothesis_normalized=hyp, ranked=ranked)


def basic_normalizer() -> Normalizer:
    """Whisper's language-neutral normaliser (``BasicTextNormalizer``: lower case, symbols and punctuation out, any
    script kept)."""
    from whisper_normalizer.basic import BasicTextNormalizer

    return BasicTextNormalizer()


def cer(reference: str, hypothesis: str, normalizer: Normalizer | None = None) -> float:
    """Character error rate of ``hypothesis`` against ``reference`` after Whisper's basic normaliser, spaces
    removed: the measure for Chinese, whose words are not separated by spaces. 0 is perfect; an empty hypothesis
    scores 1.0; an empty reference raises :class:`WerError`.

    >>> cer("你好，世界！", "你好世")
    0.25
    """
    import jiwer

    norm = normalizer or basic_normalizer()
    ref = "".join(norm(reference).split())
    hyp = "".join(norm(hypothesis).split())
    if not ref:
        raise WerError(f"reference {reference!r}: empty after normalisation; a CER against it means nothing")
    return 1.0 if not hyp else float(jiwer.cer(ref, hyp))


def to_simplified(text: str) -> str:
    """Chinese ``text`` in Simplified characters (OpenCC's ``t2s`` conversion, phrase-aware): Whisper writes Mandarin
    in either script, sometimes switching between two transcripts of the same speech, so a CER needs both in one.

    >>> to_simplified("語音與說話")
    '语音与说话'
    """
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def transcript_error(reference: str, hypothesis: str, language: str) -> float:
    """How far one transcript is from another of the same speech: CER for Chinese, Japanese and Korean (``zh``,
    ``ja``, ``ko``, ``yue``; Chinese in one script first, :func:`to_simplified`), WER after the English normaliser
    otherwise.

    >>> transcript_error("這是語音合成", "这是语音合成", "zh")  # one sentence, two scripts: nothing lost
    0.0
    """
    if language in ("zh", "yue"):
        return cer(to_simplified(reference), to_simplified(hypothesis))
    if language in ("ja", "ko"):
        return cer(reference, hypothesis)
    return wer(reference, hypothesis)
