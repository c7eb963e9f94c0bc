"""q02 — the last dimension (frames) of the codes of an 8 s clip.

Two readings that must agree: the frames of a real 8 s signal encoded by the model (the assets'
``8sAudio.wav`` when present, else a generated probe of ``thresholds.duration_s``), and frame math
``ceil(N / hop)`` with N = the question's duration × Mimi's rate and hop = rate / frame rate from the
model's configuration (the encoded signal's own length goes through the same formula too). If they
disagree every option is undecided: the question stays pending with the numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from checks.assets import find_asset
from checks.audio import load_audio
from checks.evidence import Decision, Evidence, OptionVerdict, decide_single, threshold
from checks.questions.signals import probe_signal

OPTIONAL_ASSETS: frozenset[str] = frozenset({"8sAudio.wav"})
"""Without ``8sAudio.wav`` a generated signal of the question's duration is encoded instead."""


@dataclass
class FramesMeasured:
    duration_s: float
    """The question's duration (``thresholds.duration_s``)."""
    source: str
    """What was encoded: the asset's file name or the generated probe."""
    samples: int
    """Samples encoded, at Mimi's rate."""
    seconds: float
    sampling_rate: int
    hop: int
    """Samples per frame from the model's configuration."""
    num_quantizers: int
    shape: list[int]
    """``audio_codes.shape`` of the encoded signal."""
    frames_encoded: int
    frames_math_signal: int
    """``ceil(samples / hop)``."""
    frames_math_question: int
    """``ceil(duration_s * sampling_rate / hop)``."""

    @property
    def agree(self) -> bool:
        return self.frames_encoded == self.frames_math_signal == self.frames_math_question


def judge(m: FramesMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: true iff ``opt.value`` equals the encoded frame count, else false; every option is undecided
    when the encoded frames and the two ``ceil(N / hop)`` readings disagree."""
    out: dict[str, OptionVerdict] = {}
    readings = (f"encoded {m.frames_encoded}, ceil({m.samples}/{m.hop}) = {m.frames_math_signal}, "
                f"ceil({m.duration_s:g} s × {m.sampling_rate}/{m.hop}) = {m.frames_math_question}")
    for opt in spec.options:
        if not m.agree:
            out[opt.id] = OptionVerdict("undecided", f"the readings disagree ({readings})")
        elif opt.value is None:
            out[opt.id] = OptionVerdict("undecided", "the option has no value")
        elif int(opt.value) == m.frames_encoded:
            out[opt.id] = OptionVerdict("true", f"{readings}")
        else:
            out[opt.id] = OptionVerdict("false", f"{opt.value} != {m.frames_encoded} frames")
    return out


def summary(m: FramesMeasured) -> str:
    """The evidence line: the signal, its code shape and both frame formulas."""
    return (f"{m.source} ({m.seconds:.2f} s) → {m.shape}; ceil({m.samples}/{m.hop}) = {m.frames_math_signal}; "
            f"ceil({m.duration_s:g} s × {m.sampling_rate}/{m.hop}) = {m.frames_math_question}")


def compute(ctx, spec) -> Evidence:
    """Measures the frames of an 8 s signal (``8sAudio.wav``, else a generated probe of ``thresholds.duration_s``)
    encoded with ``thresholds.num_quantizers`` layers, next to the ``ceil(N / hop)`` frame math."""
    duration = float(threshold(spec, "duration_s"))
    k = int(threshold(spec, "num_quantizers"))
    codec = ctx.mimi()
    path = find_asset(ctx.assets, "8sAudio.wav")
    notes = []
    if path is not None:
        audio = load_audio(path, rate=codec.sampling_rate)
        signal, source = audio.samples, path.name
    else:
        signal = probe_signal(duration, codec.sampling_rate, ctx.seed)[0]
        source = f"generated probe signal of {duration:g} s (seed {ctx.seed})"
        notes.append("no 8sAudio.wav in the assets: encoded a generated signal of the question's duration")
    codes = codec.encode([signal], num_quantizers=k)
    n = len(signal)
    m = FramesMeasured(duration_s=duration, source=source, samples=n, seconds=round(n / codec.sampling_rate, 6),
                       sampling_rate=codec.sampling_rate, hop=codec.hop, num_quantizers=k,
                       shape=[int(s) for s in codes.shape], frames_encoded=int(codes.shape[-1]),
                       frames_math_signal=math.ceil(n / codec.hop),
                       frames_math_question=math.ceil(duration * codec.sampling_rate / codec.hop))
    return Evidence(spec.id, m, judge(m, spec), summary(m), notes=notes)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option whose value equals the encoded frame count (see :func:`judge`)."""
    m = evidence.measured
    return decide_single(judge(m, spec), spec.letters, none_reason=f"{m.frames_encoded} frames")
