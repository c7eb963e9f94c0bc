"""Reconstruction quality metrics that never crash a check: PESQ (wideband), ESTOI, and two spectral distances.

:func:`pesq_wb` resamples both signals to 16 kHz with the project's resampler
(:func:`checks.audio.resample`, soxr VHQ), aligns their lengths and calls ``pesq.pesq(16000, ref, deg,
'wb')``. What pesq raises becomes a :class:`PesqResult` with ``value=None`` and an ``error`` code:

``too_short``        a signal shorter than pesq's minimum (1/4 s), ``BufferTooShortError``
``silent_reference`` the reference has no speech-like activity, ``NoUtterancesError``
``all_zero_output``  the degraded signal is all zeros (pesq itself fails with a bare ``ValueError``)
``not_finite``       NaN or infinite samples in either signal
``pesq_error``       anything else pesq raised (the message is kept)

PESQ is scale-invariant and speech-centred (on music it is still computed, with that caveat); its
values are MOS-LQO, about 1.0 … 4.64 for wideband. The other measures answer different questions, so
that a verdict can rest on several that agree:

* :func:`estoi` — extended short-time objective intelligibility (``pystoi``, Jensen & Taal 2016): 0 … 1,
  how much of the original's speech envelope survives (speech only; ``None`` when it cannot be computed);
* :func:`log_spectral_distance` — RMS difference of log power spectra (dB, 0 = identical), one resolution,
  not speech-specific;
* :func:`mel_distance` — mean absolute difference of log-mel spectrograms at three resolutions (dB, 0 =
  identical; the multi-scale mel distance neural codecs are trained and compared with), valid for music and
  laughter as much as for speech.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from checks.audio import PESQ_RATE, align_lengths, resample

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

MEL_RESOLUTIONS = (0.016, 0.032, 0.064)
"""Frame lengths (s) of :func:`mel_distance`'s three spectrograms (hop: a quarter frame)."""
MEL_BANDS = 64
"""Mel bands per spectrogram (0 Hz … half the rate)."""
ESTOI_MIN_SECONDS = 0.4
"""pystoi needs 30 frames of 384 samples at 10 kHz after dropping silent frames; shorter pairs get no value."""

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


def estoi(reference: "np.ndarray", degraded: "np.ndarray", rate: int) -> float | None:
    """ESTOI of ``degraded`` against ``reference`` (mono, ``rate`` Hz; pystoi resamples to 10 kHz itself).
    ``None`` for a pair pystoi cannot score: shorter than :data:`ESTOI_MIN_SECONDS`, not finite, a silent
    reference, or too few non-silent frames (pystoi's own fallback value ``1e-5`` is not a score).

    >>> import numpy as np
    >>> x = np.sin(np.linspace(0, 2000, 24000)) * np.hanning(24000)
    >>> round(estoi(x, x, 24000), 3)
    1.0
    >>> estoi(x[:2400], x[:2400], 24000) is None
    True
    """
    import warnings

    import numpy as np
    from pystoi import stoi

    ref, deg = align_lengths(np.asarray(reference, dtype=np.float64).reshape(-1),
                             np.asarray(degraded, dtype=np.float64).reshape(-1))
    if len(ref) < ESTOI_MIN_SECONDS * rate or not (np.isfinite(ref).all() and np.isfinite(deg).all()):
        return None
    if not np.any(ref):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Not enough STFT frames": answered by the check below
        value = float(stoi(ref, deg, rate, extended=True))
    return None if value <= 1e-5 or not np.isfinite(value) else value


def mel_distance(reference: "np.ndarray", degraded: "np.ndarray", rate: int,
                 resolutions=MEL_RESOLUTIONS, bands: int = MEL_BANDS, floor_db: float = -80.0) -> float | None:
    """Mean absolute difference (dB) of the log-mel spectrograms of the two signals, averaged over the frame
    lengths in ``resolutions`` (both normalised to unit RMS first, so level does not count; mel power floored
    at ``floor_db`` below the reference's peak, so that silence does not dominate). ``None`` when the reference
    is silent or shorter than the longest frame.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=24000)
    >>> mel_distance(x, 2 * x, 24000) < 1e-9
    True
    """
    import numpy as np
    from librosa.filters import mel

    ref, deg = align_lengths(np.asarray(reference, dtype=np.float64).reshape(-1),
                             np.asarray(degraded, dtype=np.float64).reshape(-1))
    longest = int(round(max(resolutions) * rate))
    if len(ref) < longest or not np.any(ref) or not (np.isfinite(ref).all() and np.isfinite(deg).all()):
        return None
    ref = ref / np.sqrt(np.mean(ref * ref))
    rms = np.sqrt(np.mean(deg * deg))
    deg = deg / rms if rms > 0 else deg
    out = []
    for seconds in resolutions:
        n = int(round(seconds * rate))
        hop = max(1, n // 4)
        fb = mel(sr=rate, n_fft=n, n_mels=bands, fmin=0.0, fmax=rate / 2)
        idx = np.arange(0, len(ref) - n + 1, hop)[:, None] + np.arange(n)[None, :]
        win = np.hanning(n)
        pr = (np.abs(np.fft.rfft(ref[idx] * win, axis=1)) ** 2) @ fb.T
        pd = (np.abs(np.fft.rfft(deg[idx] * win, axis=1)) ** 2) @ fb.T
        floor = pr.max() * 10 ** (floor_db / 10)
        lr = 10 * np.log10(np.maximum(pr, floor))
        ld = 10 * np.log10(np.maximum(pd, floor))
        out.append(float(np.mean(np.abs(lr - ld))))
    return float(np.mean(out))
