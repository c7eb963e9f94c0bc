"""q09 — the sentence spoken in ``audio_codes_shuffled.pt``, 4 Mimi code layers in a shuffled order.

The file is read safely and validated (:func:`checks.questions.layers.load_codes_file`). All ``n!`` guesses
(24 for 4 layers; the order convention is :mod:`checks.questions.layers`') are decoded (in one Mimi call on a
GPU, one per call on a CPU: :mod:`checks.models.batching`) and transcribed in **one** batched ASR call; every
transcript is scored (Whisper-normalised WER) against every option's sentence (the options' ``value``). The
answer is the sentence of the best (order, sentence) pair:

* option X is **true** when its best WER over the orders is the lowest, at most
  ``thresholds.intelligible_wer_max``, and ahead of every other sentence's best WER by at least
  ``thresholds.winner_margin_min``;
* option X is **false** when its best WER trails the winner's by at least ``winner_margin_min``;
* anything else is **undecided**.

Gate: when no order is intelligible (best WER above ``intelligible_wer_max``) every option is
undecided and the question is pending, "not meaningful: nothing intelligible" (what a fixture or
random-weight Mimi gives). Artifacts: a WER heat map (orders × sentences) and the best and worst
orders' audio. :func:`naive_transcripts` (the Colab way: decode and transcribe one order at a time)
and :func:`batched_transcripts` are the two sides of ``hw10 bench``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, decide_single, threshold
from checks.metrics.wer import english_normalizer, wer_matrix
from checks.models.batching import decode_many
from checks.models.hub import ModelMismatch
from checks.questions.layer_artifacts import plot_order_heatmap, scaling_note, write_wav
from checks.questions.layers import Order, all_orders, inverse_permutation, load_codes_file, order_text, orders_batch
from checks.timing import part

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from checks.timing import PartClock

log = logging.getLogger(__name__)

ASSET = "audio_codes_shuffled.pt"
OPTIONAL_ASSETS: frozenset[str] = frozenset()


@dataclass
class OrderRow:
    """One guess, decoded and transcribed."""

    order: list[int]
    """The guess ``g``: shuffled rows that, read in this order, are layers 0, 1, … (``shuffled[:, g]``)."""
    perm: list[int]
    """The homework's ``perm`` this guess undoes (``perm = argsort(g)``; ``shuffled = codes.index_select(1, perm)``)."""
    transcript: str
    """What the ASR heard in this order's decode (not normalised)."""
    wer: dict[str, float]
    """Option letter → WER of the transcript against that option's sentence."""
    avg_logprob: float | None = None
    """The ASR's mean token log-probability (higher = more confident); reporting only, never decides."""


@dataclass
class PairRanking:
    """The best (order, sentence) pair and what it beats; derived from the rows by :func:`rank_pairs`."""

    best_option: str
    """The letter of the sentence with the lowest WER over all orders."""
    best_wer: float
    """That lowest WER."""
    best_orders: list[list[int]]
    """Every order reaching ``best_wer`` on the best sentence, the ASR's most confident first."""
    runner_up_option: str | None
    """The sentence with the next-lowest best WER (another sentence, any order)."""
    runner_up_wer: float | None
    """The runner-up sentence's best WER."""
    margin: float | None
    """``runner_up_wer − best_wer``: how far the best sentence is ahead of every other one."""
    per_option: dict[str, float]
    """Option letter → its best WER over all orders."""
    per_option_order: dict[str, list[int]]
    """Option letter → the order reaching that WER."""
    next_order_wer: float | None
    """Best WER on the winning sentence among orders not in ``best_orders`` (how distinct the right order is)."""


@dataclass
class ShuffledMeasured:
    """The q09 table (every order × every option) and the file it came from."""

    file: str
    """The codes file as found in the assets folder."""
    shape: list[int]
    """The file's tensor shape, ``[1, n_layers, T]``."""
    dtype: str
    """dtype stored in the file (validated as integer; decoded as int64)."""
    code_min: int
    """Smallest code in the file."""
    code_max: int
    """Largest code in the file."""
    sample_rate: int
    """Rate of the decoded audio (Hz)."""
    rows: list[OrderRow] = field(default_factory=list)
    """All ``n!`` orders, in :func:`checks.questions.layers.all_orders` order."""
    ranking: PairRanking | None = None
    """Derived from ``rows`` (for reading the evidence; :func:`judge` recomputes it)."""


# ----------------------------------------------------------------------------- pure half


def rank_pairs(rows: Sequence[OrderRow], letters: Sequence[str]) -> PairRanking:
    """The best (order, sentence) pair over ``rows`` and the runner-up sentence. Ties between sentences keep
    ``letters`` order (the tie then shows as a zero margin); orders tied on WER are listed together."""
    if not rows:
        raise ValueError("no orders to rank")
    per_option: dict[str, float] = {}
    per_order: dict[str, list[int]] = {}
    for x in letters:
        row = min(rows, key=lambda r: r.wer[x])
        per_option[x], per_order[x] = float(row.wer[x]), list(row.order)
    ranked = sorted(letters, key=lambda x: per_option[x])  # stable
    best = ranked[0]
    best_wer = per_option[best]
    tied = [r for r in rows if r.wer[best] == best_wer]
    tied.sort(key=lambda r: -(r.avg_logprob if r.avg_logprob is not None else float("-inf")))
    per_order[best] = list(tied[0].order)  # the same order everywhere: verdicts, summary, heat map, audio
    others = [r.wer[best] for r in rows if r.wer[best] != best_wer]
    runner = ranked[1] if len(ranked) > 1 else None
    return PairRanking(
        best_option=best, best_wer=best_wer, best_orders=[list(r.order) for r in tied],
        runner_up_option=runner, runner_up_wer=per_option[runner] if runner else None,
        margin=(per_option[runner] - best_wer) if runner else None,
        per_option=per_option, per_option_order=per_order,
        next_order_wer=min(others) if others else None)


def gate(m: ShuffledMeasured, spec) -> str | None:
    """Why the measurement cannot decide anything (nothing intelligible), or ``None``."""
    wmax = float(threshold(spec, "intelligible_wer_max"))
    r = rank_pairs(m.rows, spec.letters)
    if r.best_wer > wmax:
        return (f"not meaningful: nothing intelligible — the best of {len(m.rows)} orders × {len(spec.letters)} "
                f"sentences has WER {r.best_wer:.2f} > intelligible_wer_max {wmax:g} (option {r.best_option}, "
                f"order {r.best_orders[0]}); with fixture or random weights this is expected")
    return None


def judge(m: ShuffledMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option, from the best (order, sentence) pair: the best sentence is true when its WER ≤
    ``intelligible_wer_max`` and it leads the runner-up by ≥ ``winner_margin_min``; another sentence is false when it
    trails by ≥ ``winner_margin_min``; else undecided (all undecided when nothing is intelligible)."""
    wmax = float(threshold(spec, "intelligible_wer_max"))
    gap_min = float(threshold(spec, "winner_margin_min"))
    r = rank_pairs(m.rows, spec.letters)
    blocked = gate(m, spec)
    out: dict[str, OptionVerdict] = {}
    for x in spec.letters:
        w = r.per_option[x]
        if blocked:
            out[x] = OptionVerdict("undecided", f"best WER {w:.2f} (order {r.per_option_order[x]}); nothing "
                                                f"intelligible (> {wmax:g})", wmax - r.best_wer)
        elif x == r.best_option:
            gap = r.margin if r.margin is not None else float("inf")
            if gap >= gap_min:
                out[x] = OptionVerdict("true", f"order {r.best_orders[0]} decodes to this sentence, WER {w:.2f} ≤ "
                                               f"{wmax:g}, {gap:.2f} ahead of option {r.runner_up_option} "
                                               f"(≥ {gap_min:g})", min(wmax - w, gap - gap_min))
            else:
                out[x] = OptionVerdict("undecided", f"best WER {w:.2f} but only {gap:.2f} ahead of option "
                                                    f"{r.runner_up_option} (< {gap_min:g})", gap - gap_min,
                                       lean="true" if gap > 0 else None)
        else:
            behind = w - r.best_wer
            if behind >= gap_min:
                out[x] = OptionVerdict("false", f"best WER {w:.2f} (order {r.per_option_order[x]}), {behind:.2f} "
                                                f"behind option {r.best_option} (≥ {gap_min:g})", behind - gap_min)
            else:
                out[x] = OptionVerdict("undecided", f"best WER {w:.2f}, within {gap_min:g} of option "
                                                    f"{r.best_option}'s {r.best_wer:.2f}", behind - gap_min,
                                       lean="false" if behind > 0 else None)
    return out


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the sentence of the best (order, sentence) pair (see :func:`judge`); pending when nothing is
    intelligible (:func:`gate`)."""
    m = evidence.measured
    verdicts = judge(m, spec)
    blocked = gate(m, spec)
    if blocked:
        return Decision("pending", (), blocked, None, verdicts)
    return decide_single(verdicts, list(spec.letters), none_reason=summary(m, spec))


def summary(m: ShuffledMeasured, spec) -> str:
    """The evidence line: the best pair (order, the perm it undoes, sentence, WER), the runner-up's margin and each
    option's best WER, or "nothing intelligible"."""
    r = rank_pairs(m.rows, spec.letters)
    ranked = ", ".join(f"{x} {r.per_option[x]:.2f}" for x in sorted(r.per_option, key=r.per_option.get))
    best = r.best_orders[0]
    head = f"{m.file} {m.shape}, {len(m.rows)} orders decoded and transcribed: "
    if r.best_wer > float(threshold(spec, "intelligible_wer_max")):
        return head + f"nothing intelligible (lowest WER {r.best_wer:.2f}); best WER per option: {ranked}"
    return head + (f"best pair = order {best} (undoes the homework's perm {list(inverse_permutation(best))}) "
                   f"× option {r.best_option}, WER {r.best_wer:.2f}; runner-up option {r.runner_up_option} "
                   f"(margin {r.margin:.2f}); best WER per option: {ranked}")


# ----------------------------------------------------------------------------- measuring


def decode_orders(codec, shuffled: "torch.Tensor", orders: Sequence[Order], batch: int | None = None) -> "np.ndarray":
    """``[len(orders), samples]``: every guess decoded, ``batch`` per Mimi call (``None``: the device's default,
    all in one call on a GPU, one per call on a CPU; see :mod:`checks.models.batching`)."""
    return decode_many(codec, orders_batch(shuffled, orders), batch)


def batched_transcripts(codec, asr, shuffled: "torch.Tensor", orders: Sequence[Order],
                        decode_batch: int | None = None, clock: "PartClock | None" = None):
    """Ours: all orders decoded (``decode_batch`` per call, see :func:`decode_orders`), then transcribed in
    one batched ASR call. Returns ``(audio, transcripts)``; ``clock`` (``hw10 bench``) gets the time per part."""
    with part(clock, "decode"):
        audio = decode_orders(codec, shuffled, orders, decode_batch)
    with part(clock, "asr"):
        transcripts = asr.transcribe(list(audio), rate=codec.sampling_rate)
    return audio, transcripts


def naive_transcripts(codec, asr, shuffled: "torch.Tensor", orders: Sequence[Order],
                      clock: "PartClock | None" = None):
    """The Colab way, for ``hw10 bench``: decode and transcribe one order at a time. Same return value."""
    import numpy as np

    audio, transcripts = [], []
    for g in orders:
        with part(clock, "decode"):
            one = decode_orders(codec, shuffled, [g])
        audio.append(one[0])
        with part(clock, "asr"):
            transcripts.extend(asr.transcribe([one[0]], rate=codec.sampling_rate))
    return np.stack(audio), transcripts


def option_sentences(spec) -> dict[str, str]:
    """Option letter → its sentence (the option's ``value``); a :class:`SpecError` when one is missing or blank."""
    out = {}
    for o in spec.options:
        if not isinstance(o.value, str) or not o.value.strip():
            raise SpecError(f"questions/{spec.id}.yaml: option {o.id} needs its sentence as 'value'")
        out[o.id] = o.value
    return out


def compute(ctx, spec) -> Evidence:
    """Loads ``audio_codes_shuffled.pt``, decodes every order of its ``n_layers`` layers, transcribes them in one ASR
    call and measures the WER of each transcript against each option's sentence (heat map and audio as artifacts)."""
    n_layers = int(threshold(spec, "n_layers"))
    size = int(threshold(spec, "codebook_size"))
    sentences = option_sentences(spec)
    path = ctx.asset(ASSET)
    loaded = load_codes_file(path, n_layers, size)
    shuffled = loaded.codes
    codec = ctx.mimi()
    if codec.num_quantizers < n_layers:
        raise ModelMismatch(f"{path.name} has {n_layers} code layers, but this Mimi ({codec.info.description}) "
                            f"decodes at most {codec.num_quantizers}")
    if codec.codebook_size != size:
        raise ModelMismatch(f"this Mimi has {codec.codebook_size} codes per layer, the question assumes {size}")
    asr = ctx.model("asr").model
    orders = all_orders(n_layers)
    log.info("q09: decoding and transcribing %d layer orders of %s %s", len(orders), path.name, list(shuffled.shape))
    audio, transcripts = batched_transcripts(codec, asr, shuffled, orders)
    letters = list(spec.letters)
    table = wer_matrix([sentences[x] for x in letters], [t.text for t in transcripts], english_normalizer())
    rows = [OrderRow(order=list(g), perm=list(inverse_permutation(g)), transcript=t.text,
                     wer={x: float(w) for x, w in zip(letters, ws)}, avg_logprob=t.avg_logprob)
            for g, t, ws in zip(orders, transcripts, table)]
    m = ShuffledMeasured(file=path.name, shape=[int(s) for s in shuffled.shape], dtype=loaded.stored_dtype,
                         code_min=int(shuffled.min()), code_max=int(shuffled.max()),
                         sample_rate=codec.sampling_rate, rows=rows, ranking=rank_pairs(rows, letters))
    notes = [f"order convention: a guess g lists the shuffled rows that read in order are layers 0…{n_layers - 1} "
             "(shuffled[:, g]); it is argsort of the homework's perm (shuffled = codes.index_select(1, perm))"]
    r = m.ranking
    decided = r.best_wer <= float(threshold(spec, "intelligible_wer_max")) and (r.margin is None or r.margin > 0)
    if len(r.best_orders) > 1 and decided:
        notes.append(f"{len(r.best_orders)} orders tie at WER {r.best_wer:.2f} on option {r.best_option} "
                     f"({', '.join(order_text(g) for g in r.best_orders)}): the sentence is determined, the exact "
                     "order is not (listed most confident first)")
    if tuple(r.best_orders[0]) == tuple(range(n_layers)):
        notes.append("the best order is the identity: the file may not be shuffled at all")
    folder = ctx.artifact_dir(spec.id)
    if folder is not None:
        notes.extend(_write_artifacts(folder, m, audio, spec))
    return Evidence(spec.id, m, judge(m, spec), summary(m, spec),
                    artifacts=str(folder) if folder is not None else None, notes=notes)


def _write_artifacts(folder, m: ShuffledMeasured, audio, spec) -> list[str]:
    letters = list(spec.letters)
    r = m.ranking
    best_i = next(i for i, row in enumerate(m.rows) if row.order == r.best_orders[0])
    worst_i = max(range(len(m.rows)), key=lambda i: (min(m.rows[i].wer.values()), i))
    wmax = float(threshold(spec, "intelligible_wer_max"))
    heading = (f"best: order {order_text(r.best_orders[0])} × option {r.best_option} (WER {r.best_wer:.2f})"
               if r.best_wer <= wmax else f"nothing intelligible: lowest WER {r.best_wer:.2f} > {wmax:g}")
    plot_order_heatmap(folder / "q09_wer_heatmap.png", [f"g={order_text(row.order)}" for row in m.rows], letters,
                       [[row.wer[x] for x in letters] for row in m.rows], (best_i, letters.index(r.best_option)),
                       f"q09: WER of each order's transcript against each option\n{heading}",
                       wmax)
    gains = {}
    for tag, i in (("best", best_i), ("worst", worst_i)):
        name = f"{tag}_order_{order_text(m.rows[i].order)}.wav"
        gains[name] = write_wav(folder / name, audio[i], m.sample_rate)
    return scaling_note(gains)
