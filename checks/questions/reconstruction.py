"""Encode → decode → score: what q07 and q08 measure on the Colab's four clips.

* :func:`reconstruct` encodes a clip with the first ``num_quantizers`` code layers and decodes it back
  (the clip zero-padded to whole frames, the output cut to the input's length).
* :func:`score_clip` loads one clip, reconstructs it and scores it: wideband PESQ
  (:func:`checks.metrics.quality.pesq_wb`, its errors kept as evidence), ESTOI (intelligibility, speech only),
  a log-spectral and a multi-scale mel distance (not speech-specific), level, silence and clipping of the
  original, and whether the decoder returned all zeros. The decoded audio is written as ``<stem>_decoded.wav``
  when an artifacts folder is given.
* :func:`chunk_test` asks whether *sequence length* matters: the clip is cut into windows of each length
  in ``chunk_seconds``; every window is encoded and decoded on its own (a short sequence) and scored
  against the original window; the same windows cut out of the whole-clip reconstruction (a long
  sequence) are scored too. The paired difference (alone − in context) is the length effect: clearly
  positive when a codec degrades on long inputs.
* :func:`quality` judges "reconstructed well / poorly" of some clips by PESQ, ESTOI and (where there are some)
  the transcripts, decided only when they agree: q07's clauses and q08's speech controls.
* :func:`pesq_bar_chart` and :func:`chunk_chart` draw the PNG artifacts.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from checks.audio import clipped_fraction, is_silent, load_audio, pad_to_multiple, rms_dbfs, windows, write_wav
from checks.evidence import Decision, Evidence, SpecError, decide_single, threshold
from checks.metrics.quality import estoi, log_spectral_distance, mel_distance, pesq_wb
from checks.models.batch_encode import encode_batched
from checks.models.batching import decode_many
from checks.plots import pyplot, save_figure
from checks.questions.claims import Clause, agree, at_least

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


@dataclass
class ClipScore:
    """One clip, reconstructed with all the code layers used, and scored against its original."""

    role: str
    """What the clip stands for in the question (``english``, ``music`` …)."""
    file: str
    seconds: float
    original_rate: int | None
    """The file's own sample rate (it is resampled to the codec's rate)."""
    rms_dbfs: float
    silent: bool
    """Original below ``silence_dbfs``."""
    clipped_fraction: float
    """Share of original samples at or beyond ``clipping_level`` (a clipped recording scores oddly)."""
    decoded_rms_dbfs: float
    decoded_all_zero: bool
    pesq: float | None
    """Wideband PESQ (MOS-LQO) of the reconstruction; ``None`` with ``pesq_error`` when pesq could not score."""
    pesq_error: str | None = None
    pesq_message: str = ""
    lsd_db: float | None = None
    """Log-spectral distance (dB, 0 = identical): a second metric that is not speech-specific."""
    estoi: float | None = None
    """ESTOI (0 … 1, 1 = the original's speech envelope intact); ``None`` when it cannot be computed."""
    mel_db: float | None = None
    """Multi-scale log-mel distance (dB, 0 = identical): a third metric, valid for music and laughter."""
    heard_original: str | None = None
    """What the ASR heard in the original (q07; ``None`` when not transcribed)."""
    heard_decoded: str | None = None
    """What the ASR heard in the reconstruction."""
    transcript_error: float | None = None
    """How far the reconstruction's transcript is from the original's (CER for Chinese, WER for English)."""
    transcript_note: str | None = None
    """Why there is no transcript error (an English-only ASR and Chinese speech, nothing heard in the original)."""
    decoded_wav: str | None = None


@dataclass
class ChunkScore:
    """The length test of one clip at one window length."""

    role: str
    chunk_seconds: float
    windows: int
    scored: int
    """Windows where both PESQs could be computed (silent windows are left out)."""
    pesq_alone: float | None
    """Mean PESQ of the windows encoded and decoded one by one (short sequences)."""
    pesq_in_context: float | None
    """Mean PESQ of the same windows cut from the whole-clip reconstruction (one long sequence)."""
    effect: float | None
    """``pesq_alone − pesq_in_context``: > 0 when short sequences reconstruct better."""
    errors: list[str] = field(default_factory=list)


def reconstruct(codec, samples: "np.ndarray", num_quantizers: int) -> "np.ndarray":
    """Encode with ``num_quantizers`` layers and decode; the output has the input's length."""
    codes = encode_batched(codec, [samples], num_quantizers)[0]
    return codec.decode(codes[None])[0][: len(samples)]


def score_clip(codec, role: str, path: Path, num_quantizers: int, silence_dbfs: float, clipping_level: float,
               out_dir: Path | None = None) -> tuple[ClipScore, "np.ndarray", "np.ndarray"]:
    """Reconstruct and score one clip; returns the score, the original and the reconstruction (codec rate)."""
    import numpy as np

    audio = load_audio(path, rate=codec.sampling_rate)
    x = audio.samples
    y = reconstruct(codec, x, num_quantizers)
    r = pesq_wb(x, y, codec.sampling_rate)
    wav = None
    if out_dir is not None:
        wav = str(write_wav(Path(out_dir) / f"{Path(path).stem}_decoded.wav", y, codec.sampling_rate))
    score = ClipScore(role=role, file=Path(path).name, seconds=len(x) / codec.sampling_rate,
                      original_rate=audio.original_rate, rms_dbfs=rms_dbfs(x), silent=is_silent(x, silence_dbfs),
                      clipped_fraction=clipped_fraction(x, clipping_level), decoded_rms_dbfs=rms_dbfs(y),
                      decoded_all_zero=not bool(np.any(y)), pesq=r.value, pesq_error=r.error, pesq_message=r.message,
                      lsd_db=log_spectral_distance(x, y, codec.sampling_rate), estoi=estoi(x, y, codec.sampling_rate),
                      mel_db=mel_distance(x, y, codec.sampling_rate), decoded_wav=wav)
    return score, x, y


def chunk_test(codec, role: str, original: "np.ndarray", in_context: "np.ndarray", num_quantizers: int,
               chunk_seconds: Sequence[float]) -> list[ChunkScore]:
    """The length test (module docstring) at each window length shorter than the clip."""
    import numpy as np

    rate = codec.sampling_rate
    out = []
    for seconds in chunk_seconds:
        n = int(round(float(seconds) * rate))
        spans = windows(len(original), n)
        if not spans or n >= len(original):
            continue  # a window as long as the clip is the clip itself: nothing to compare
        pieces = [pad_to_multiple(original[s], codec.hop) for s in spans]
        codes = encode_batched(codec, pieces, num_quantizers)
        import torch

        decoded = decode_many(codec, torch.stack(codes))[:, :n]
        alone, context, errors = [], [], []
        for i, s in enumerate(spans):
            a = pesq_wb(original[s], decoded[i], rate)
            c = pesq_wb(original[s], in_context[s], rate)
            if a.ok and c.ok:
                alone.append(a.value)
                context.append(c.value)
            else:
                errors.append(f"window {i} ({s.start / rate:.1f}-{s.stop / rate:.1f} s): "
                              f"{a.error or c.error}")
        pa = float(np.mean(alone)) if alone else None
        pc = float(np.mean(context)) if context else None
        out.append(ChunkScore(role, float(seconds), len(spans), len(alone), pa, pc,
                              None if pa is None or pc is None else pa - pc, errors))
    return out


def pesq_bar_chart(scores: Sequence[ClipScore], path: Path, title: str,
                   lines: dict[str, float] | None = None) -> Path:
    """One bar per clip (its PESQ; a hatched empty bar with the error for an unscored clip), dashed
    horizontal lines at ``lines`` (name → value, e.g. the thresholds)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        names = [s.role for s in scores]
        values = [s.pesq if s.pesq is not None else 0.0 for s in scores]
        bars = ax.bar(names, values, color="tab:blue")
        for bar, s in zip(bars, scores):
            if s.pesq is None:
                bar.set_hatch("//")
                bar.set_facecolor("none")
                ax.text(bar.get_x() + bar.get_width() / 2, 0.1, s.pesq_error or "no score", ha="center",
                        rotation=90, fontsize=8)
            else:
                ax.text(bar.get_x() + bar.get_width() / 2, s.pesq + 0.05, f"{s.pesq:.2f}", ha="center", fontsize=9)
        for i, (name, value) in enumerate((lines or {}).items()):
            ax.axhline(value, linestyle="--", linewidth=1, color=f"C{i + 1}", label=f"{name} {value:g}")
        if lines:
            ax.legend(fontsize=8, loc="upper right")
        ax.set_ylim(0, 4.8)
        ax.set_ylabel("PESQ (wideband, MOS-LQO)")
        ax.set_title(title)
        return save_figure(fig, path, bbox_inches="tight")
    finally:
        plt.close(fig)


def chunk_chart(chunks: Sequence[ChunkScore], full: Sequence[ClipScore], path: Path, title: str) -> Path:
    """PESQ against window length per clip: windows alone (solid) and in context (dashed); whole clip at
    its own length (marker)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        for i, s in enumerate(full):
            mine = sorted((c for c in chunks if c.role == s.role and c.pesq_alone is not None),
                          key=lambda c: c.chunk_seconds)
            colour = f"C{i}"
            if mine:
                ax.plot([c.chunk_seconds for c in mine], [c.pesq_alone for c in mine], "-o", color=colour,
                        label=f"{s.role}: windows alone")
                ax.plot([c.chunk_seconds for c in mine], [c.pesq_in_context for c in mine], "--x", color=colour,
                        label=f"{s.role}: same windows in context")
            if s.pesq is not None:
                ax.plot([s.seconds], [s.pesq], "s", color=colour, markersize=8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("window length (s); squares: whole clip")
        ax.set_ylabel("PESQ (wideband)")
        ax.set_ylim(0, 4.8)
        ax.set_title(title)
        ax.legend(fontsize=7, loc="best")
        return save_figure(fig, path, bbox_inches="tight")
    finally:
        plt.close(fig)


def model_gate(model_layers: int, asked_layers: int, scores: Sequence[ClipScore], works_min: float) -> str | None:
    """Why no option can be decided with this model (too few code layers; a codec that reconstructs
    nothing: the best PESQ of all clips below ``works_min``), or ``None``."""
    reasons = []
    if model_layers < asked_layers:
        reasons.append(f"this Mimi has {model_layers} code layers, the question decodes with {asked_layers} "
                       "(kyutai/mimi has 32)")
    scored = [s.pesq for s in scores if s.pesq is not None]
    if not scored:
        reasons.append("no clip could be scored (" + "; ".join(f"{s.role}: {s.pesq_error}" for s in scores) + ")")
    elif max(scored) < works_min:
        reasons.append(f"the codec reconstructs none of the clips (best PESQ {max(scored):.2f} < "
                       f"codec_works_pesq_min {works_min:g}): untrained or fixture weights")
    return "; ".join(reasons) if reasons else None



def gate(m, spec) -> str | None:
    """:func:`model_gate` for a q07/q08 measurement (``model_layers``, ``num_quantizers_asked``, ``clips``),
    with ``codec_works_pesq_min`` from the question's spec."""
    return model_gate(m.model_layers, m.num_quantizers_asked, m.clips, float(threshold(spec, "codec_works_pesq_min")))


def decide_gated(m, spec, verdicts, summary: str):
    """The single-answer decision of q07/q08: pending with the gate's reason when the codec gate closes."""
    blocked = gate(m, spec)
    if blocked:
        return Decision("pending", (), blocked, None, verdicts)
    return decide_single(verdicts, spec.letters, none_reason=summary)


def clip_roles(spec, roles: Sequence[str]) -> dict[str, str]:
    """``{role: file name}`` from ``thresholds.clips`` for each of ``roles``; a :class:`SpecError` when one is
    missing."""
    clips = threshold(spec, "clips")
    missing = [r for r in roles if r not in clips]
    if missing:
        raise SpecError(f"questions/{spec.id}.yaml: thresholds.clips lacks {', '.join(missing)}")
    return {r: clips[r] for r in roles}


def no_pesq(s: ClipScore) -> str:
    """Why clip ``s`` has no PESQ (pesq's error and message)."""
    return f"no PESQ for {s.role} ({s.file}: {s.pesq_error}: {s.pesq_message})"


MEASURES = {"pesq": "PESQ", "estoi": "ESTOI", "transcript_error": "transcript error"}
"""The measures of reconstruction quality every "well" / "poor" clause needs to agree on (ClipScore fields); the
transcript error is lower-is-better and is left out (with the reason) where the ASR cannot transcribe a clip."""


def clause_all(scores: list[ClipScore], limit: float, band: float, name: str, above: bool,
               measure: str = "pesq") -> Clause:
    """All ``scores``' ``measure`` (a :data:`MEASURES` key) ≥ ``limit`` (``above``) or all < ``limit`` (not
    ``above``), outside ``± band``; undecided when a clip lacks the measure. For the transcript error (lower is
    better) pass ``above`` as "at most ``limit``" is wanted: the caller flips it."""
    label = MEASURES[measure]
    values = {s.role: getattr(s, measure) for s in scores}
    missing = [s for s in scores if values[s.role] is None]
    if missing:
        return Clause(name, "undecided", "; ".join(no_pesq(s) if measure == "pesq" else
                                                   f"no {label} for {s.role} ({s.file})" for s in missing))
    text = ", ".join(f"{role} {v:.2f}" for role, v in values.items())
    if above:
        worst = min(values.values())
        verdict, margin = at_least(worst, limit, band)
        return Clause(name, verdict, f"{label} {text}: lowest {worst:.2f} vs {limit:g}", margin)
    best = max(values.values())
    verdict, margin = at_least(limit - best, 0.0, band)
    return Clause(name, verdict, f"{label} {text}: highest {best:.2f} vs {limit:g}", margin)


def quality(scores: list[ClipScore], spec, level: str, name: str, above: bool) -> Clause:
    """Clause ``name``: every clip of ``scores`` reconstructed well (``level="good"``: at or above the good
    thresholds, ``above``) or not (below them), or effectively / not effectively (``level="poor"``), judged by
    PESQ *and* ESTOI (and the transcripts where there are some: :func:`transcript_measure`), decided only when the
    measures say the same (:func:`checks.questions.claims.agree`). Thresholds ``pesq_good_min`` /
    ``pesq_poor_max``, ``estoi_good_min`` / ``estoi_poor_max`` with their bands, from the question's spec."""
    band = float(threshold(spec, "undecided_band"))
    pesq_limit = float(threshold(spec, f"pesq_{level}_{'min' if level == 'good' else 'max'}"))
    estoi_limit = float(threshold(spec, f"estoi_{level}_{'min' if level == 'good' else 'max'}"))
    estoi_band = float(threshold(spec, "estoi_undecided_band"))
    measures = [clause_all(scores, pesq_limit, band, name, above),
                clause_all(scores, estoi_limit, estoi_band, name, above, "estoi")]
    return agree(name, measures + transcript_measure(scores, spec, level, name, above))


def transcript_measure(scores: list[ClipScore], spec, level: str, name: str, above: bool) -> list[Clause]:
    """The third measure of a "well" / "poor" clause: the ASR transcript of each reconstruction against the
    transcript of its original (CER for Chinese, WER for English; lower is better): well = at most
    ``transcript_good_max``, poor = at least ``transcript_poor_min`` (``± transcript_undecided_band``). Left out
    (``[]``; the reason in the evidence notes) where a clip has none: an English-only ASR and Chinese speech, or
    nothing heard in the original."""
    if any(s.transcript_error is None for s in scores):
        return []
    limit = float(threshold(spec, "transcript_good_max" if level == "good" else "transcript_poor_min"))
    band = float(threshold(spec, "transcript_undecided_band"))
    # lower is better: "at or above the good level" is an error at most the limit, i.e. -error >= -limit
    flipped = [replace(s, transcript_error=-s.transcript_error) for s in scores]
    clause = clause_all(flipped, -limit, band, name, above, "transcript_error")
    values = ", ".join(f"{s.role} {s.transcript_error:.2f}" for s in scores)
    return [Clause(clause.name, clause.verdict, f"transcript error {values} vs {limit:g} "
                                                f"({'at most' if above else 'above'})", clause.margin)]


def clip_text(s: ClipScore) -> str:
    """``role PESQ / ESTOI [/ transcript error]`` of one clip for an evidence line (``no score (why)`` without a
    PESQ, ``—`` without an ESTOI)."""
    if s.pesq is None:
        return f"{s.role} no score ({s.pesq_error})"
    text = f"{s.role} {s.pesq:.2f} / " + ("—" if s.estoi is None else f"{s.estoi:.2f}")
    return text + (f" / {s.transcript_error:.2f}" if s.transcript_error is not None else "")


def clip_notes(scores: list[ClipScore], spec) -> list[str]:
    """Caveats on the scored clips (q07 and q08): silent or clipped originals, all-zero or over-loud decodes,
    clips PESQ could not score."""
    notes = []
    for s in scores:
        if s.silent:
            notes.append(f"{s.file} is silent (RMS {s.rms_dbfs:.1f} dBFS < {threshold(spec, 'silence_dbfs')})")
        if s.clipped_fraction > 0:
            notes.append(f"{s.file}: {s.clipped_fraction:.2%} of the samples are at full scale (clipped)")
        if s.decoded_all_zero:
            notes.append(f"{s.file}: the codec returned all zeros")
        elif s.decoded_rms_dbfs > 0:
            notes.append(f"{s.file}: the decoded signal is louder than full scale "
                         f"(RMS {s.decoded_rms_dbfs:+.1f} dBFS), "
                         "not what a working codec returns; the decoded WAV is clipped to ±1")
        if s.pesq is None:
            notes.append(f"{s.file}: PESQ not computed ({s.pesq_error}: {s.pesq_message})")
        if s.transcript_note:
            notes.append(f"{s.file}: no transcript measure ({s.transcript_note}); decided on PESQ and ESTOI")
        elif s.transcript_error is not None:
            notes.append(f"{s.file}: the ASR heard {s.heard_original!r} in the original, {s.heard_decoded!r} in "
                         f"the reconstruction (error {s.transcript_error:.2f})")
    return notes


def reconstruction_evidence(spec, m, clips: Sequence[ClipScore], verdicts, summary: str, art: Path | None) -> Evidence:
    """The :class:`Evidence` of q07/q08: their measurement ``m``, ``verdicts`` and ``summary``, with the caveats on
    the scored ``clips`` (:func:`clip_notes`) and the codec gate's reason (:func:`gate`) as notes."""
    notes = clip_notes(list(clips), spec)
    blocked = gate(m, spec)
    if blocked:
        notes.append(blocked)
    return Evidence(spec.id, m, verdicts, summary, artifacts=str(art) if art else None, notes=notes)
