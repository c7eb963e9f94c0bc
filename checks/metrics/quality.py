"""Reconstruction quality metrics that never crash a check: PESQ (wideband) and a log-spectral distance.

:func:`pesq_wb` resamples both signals to 16 kHz with the project's resampler
(:func:`checks.audio.resample`, soxr VHQ), aligns their lengths and calls ``pesq.pesq(16000, ref, deg,
'wb')``. What pesq raises becomes a :class:`PesqResult` with ``value=None`` and an ``error`` code:

``too_short``        a signal shorter than pesq's minimum (1/4 s), ``BufferTooShortError``
``silent_reference`` the reference has no speech-like activity, ``NoUtterancesError``
``all_zero_output``  the degraded signal is all zeros (pesq itself fails with a bare ``ValueError``)
``not_finite``       NaN or infinite samples in either signal
``pesq_error``       anything else pesq raised (the message is kept)

PESQ is scale-invariant and speech-centred (on music it is still computed, with that caveat); its
values are MOS-LQO, about 1.0 … 4.64 for wideband. :func:`log_spectral_distance` is a metric that is
not speech-specific (dB, 0 = identical), used to corroborate a PESQ ranking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from checks.audio import PESQ_RATE, align_lengths, resample

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

PESQ_MIN_SECONDS = 0.25
"""pesq refuses signals shorter than a quarter second (its own limit, ``BufferTooShortError``)."""

PesqErrorCode = Literal["too_short", "silent_reference", "all_zero_output", "not_finite", "pesq_error"]


@dataclass(frozen=True)
class PesqResult:
    """One PESQ measurement, or why there is none."""

    value: float | None
    """MOS-LQO (wideband), ``None`` when pesq could not score the pair."""
    error: PesqErrorCode | None = None
    """Why there is no value (see the module docstring); ``None`` when scored."""
    message: str = ""
    """pesq's own message, or ours, for the error."""
    seconds: float = 0.0
    """Length of the scored (aligned) pair at 16 kHz."""

    @property
    def ok(self) -> bool:
        return self.value is not None

    def text(self) -> str:
        return f"{self.value:.3f}" if self.value is not None else f"no score ({self.error}: {self.message})"


def pesq_wb(reference: "np.ndarray", degraded: "np.ndarray", rate: int) -> PesqResult:
    """Wideband PESQ of ``degraded`` against ``reference`` (both mono at ``rate`` Hz); never raises for
    signal problems: they come back as :attr:`PesqResult.error`."""
    import numpy as np
    import pesq

    ref = resample(np.asarray(reference, dtype=np.float32).reshape(-1), rate, PESQ_RATE)
    deg = resample(np.asarray(degraded, dtype=np.float32).reshape(-1), rate, PESQ_RATE)
    ref, deg = align_lengths(ref, deg)
    seconds = len(ref) / PESQ_RATE
    if not (np.isfinite(ref).all() and np.isfinite(deg).all()):
        return PesqResult(None, "not_finite", "NaN or infinite samples", seconds)
    if seconds < PESQ_MIN_SECONDS:
        return PesqResult(None, "too_short", f"{seconds:.3f} s is shorter than pesq's minimum of "
                                             f"{PESQ_MIN_SECONDS} s", seconds)
    if not np.any(ref):
        return PesqResult(None, "silent_reference", "the reference is digital silence (all zeros)", seconds)
    if not np.any(deg):
        return PesqResult(None, "all_zero_output", "the decoded signal is all zeros", seconds)
    try:
        value = float(pesq.pesq(PESQ_RATE, ref, deg, "wb"))
    except pesq.NoUtterancesError as exc:
        return PesqResult(None, "silent_reference", f"pesq found no utterances in the reference ({_msg(exc)})",
                          seconds)
    except pesq.BufferTooShortError as exc:
        return PesqResult(None, "too_short", _msg(exc), seconds)
    except pesq.PesqError as exc:
        return PesqResult(None, "pesq_error", f"{type(exc).__name__}: {_msg(exc)}", seconds)
    except ValueError as exc:  # pesq's own failure on an all-zero (or numerically dead) degraded signal
        return PesqResult(None, "all_zero_output", f"pesq failed on the degraded signal ({exc})", seconds)
    return PesqResult(value, None, "", seconds)


def _msg(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else ""
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def log_spectral_distance(reference: "np.ndarray", degraded: "np.ndarray", rate: int,
                          frame_seconds: float = 0.032, floor_db: float = -80.0) -> float | None:
    """Mean over frames of the RMS difference (dB) between the two log power spectra (Hann frames of
    ``frame_seconds``, half overlap, both normalised to unit RMS first so that level does not count).
    Frames where the reference is below ``floor_db`` relative to its loudest frame are left out.
    ``None`` when no frame is left (silence, or shorter than one frame)."""
    import numpy as np

    ref, deg = align_lengths(np.asarray(reference, dtype=np.float64), np.asarray(degraded, dtype=np.float64))
    n = int(round(frame_seconds * rate))
    if n < 8 or len(ref) < n or not np.any(ref):
        return None

    def spectra(x):
        rms = np.sqrt(np.mean(x * x))
        x = x / rms if rms > 0 else x
        hop = n // 2
        idx = np.arange(0, len(x) - n + 1, hop)[:, None] + np.arange(n)[None, :]
        frames = x[idx] * np.hanning(n)
        return np.abs(np.fft.rfft(frames, axis=1)) ** 2

    pr, pd = spectra(ref), spectra(deg)
    energy = 10 * np.log10(pr.sum(axis=1) + 1e-20)
    keep = energy >= energy.max() + floor_db
    if not keep.any():
        return None
    lr = 10 * np.log10(pr[keep] + 1e-10)
    ld = 10 * np.log10(pd[keep] + 1e-10)
    return float(np.mean(np.sqrt(np.mean((lr - ld) ** 2, axis=1))))
