"""q01 — shapes of the Mimi codes of the 2 s and 4 s clips.

Encode each clip (resampled to Mimi's rate, batch 1, ``thresholds.num_quantizers`` layers), read
``audio_codes.shape``; an option is true iff its shape for every clip equals the measured one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from checks.audio import load_audio
from checks.evidence import Decision, Evidence, OptionVerdict, decide_single, threshold

OPTIONAL_ASSETS: frozenset[str] = frozenset()


@dataclass
class ClipCodes:
    """One encoded clip."""

    file: str
    """File name in the assets folder."""
    seconds: float
    """Duration after resampling."""
    samples: int
    """Samples at Mimi's rate (what the encoder saw)."""
    original_rate: int
    original_channels: int
    shape: list[int]
    """``audio_codes.shape`` as measured."""
    frames_by_math: int
    """``ceil(samples / hop)``, for comparison."""
    code_min: int
    code_max: int


@dataclass
class ShapesMeasured:
    num_quantizers: int
    """Layers requested from the encoder (``thresholds.num_quantizers``)."""
    hop: int
    """Samples per frame from the model's configuration."""
    sampling_rate: int
    clips: list[ClipCodes] = field(default_factory=list)


def encode_clips(ctx, files: list[str], num_quantizers: int, art=None) -> ShapesMeasured:
    """Encode each asset in ``files`` one at a time (batch 1, as the Colab does); codes saved to ``art``."""
    import numpy as np

    codec = ctx.mimi()
    measured = ShapesMeasured(num_quantizers=num_quantizers, hop=codec.hop, sampling_rate=codec.sampling_rate)
    for name in files:
        audio = load_audio(ctx.asset(name), rate=codec.sampling_rate)
        codes = codec.encode([audio.samples], num_quantizers=num_quantizers)
        measured.clips.append(ClipCodes(
            file=name, seconds=round(audio.seconds, 6), samples=len(audio.samples),
            original_rate=audio.original_rate or codec.sampling_rate, original_channels=audio.original_channels or 1,
            shape=[int(s) for s in codes.shape], frames_by_math=math.ceil(len(audio.samples) / codec.hop),
            code_min=int(codes.min()), code_max=int(codes.max())))
        if art is not None:
            np.save(art / f"codes_{name.rsplit('.', 1)[0]}.npy", codes.numpy())
    return measured


def judge(measured: ShapesMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: true iff every clip it names (``opt.value``: file → shape) has exactly that measured shape,
    false if one differs, undecided when a clip it names was not measured."""
    shapes = {c.file: c.shape for c in measured.clips}
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        want = opt.value or {}
        unmeasured = [f for f in want if f not in shapes]
        if not want or unmeasured:
            out[opt.id] = OptionVerdict("undecided", f"no measurement for {', '.join(unmeasured) or 'its shapes'}")
            continue
        wrong = [f"{f} is {shapes[f]}, not {list(want[f])}" for f in want if list(want[f]) != shapes[f]]
        if wrong:
            out[opt.id] = OptionVerdict("false", "; ".join(wrong))
        else:
            out[opt.id] = OptionVerdict("true", "; ".join(f"{f} = {shapes[f]}" for f in want))
    return out


def summary(measured: ShapesMeasured) -> str:
    """The evidence line: each clip's duration (and original rate/channels when resampled) → its measured shape."""
    parts = []
    for c in measured.clips:
        src = "" if c.original_rate == measured.sampling_rate and c.original_channels == 1 else \
            f", from {c.original_rate} Hz × {c.original_channels} ch"
        parts.append(f"{c.file} ({c.seconds:.2f} s{src}) → {c.shape}")
    return "; ".join(parts) + f" (hop {measured.hop} samples)"


def compute(ctx, spec) -> Evidence:
    """Measures ``audio_codes.shape`` of each of the question's clips encoded with ``thresholds.num_quantizers``
    layers; notes clips whose frame count differs from ``ceil(samples / hop)``."""
    art = ctx.artifact_dir(spec.id)
    measured = encode_clips(ctx, list(spec.check.assets), int(threshold(spec, "num_quantizers")), art)
    notes = [f"{c.file}: measured {c.shape[-1]} frames but ceil({c.samples}/{measured.hop}) = {c.frames_by_math}"
             for c in measured.clips if c.shape[-1] != c.frames_by_math]
    return Evidence(spec.id, measured, judge(measured, spec), summary(measured),
                    artifacts=str(art) if art else None, notes=notes)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option whose shapes all equal the measured ones (see :func:`judge`)."""
    m = evidence.measured
    shapes = ", ".join(f"{c.file} = {c.shape}" for c in m.clips)
    return decide_single(judge(m, spec), spec.letters, none_reason=f"measured {shapes}")
