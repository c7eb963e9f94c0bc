"""Audio in and out for every check: load any common file, any rate, mono or stereo → float32 mono.

One resampler for the whole project (soxr, "VHQ"); its name goes into provenance via
:data:`RESAMPLER`. numpy/soundfile/soxr are imported lazily so importing this module is cheap.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

RESAMPLER = "soxr VHQ"
MIMI_RATE = 24_000
PESQ_RATE = 16_000


class AudioError(ValueError):
    """A clip that cannot be used (missing, unreadable, empty, NaN); the message names the file."""


@dataclass(frozen=True)
class Audio:
    samples: "np.ndarray"
    """float32, mono, shape [N]."""
    rate: int
    source: str = ""
    """File it came from (for messages)."""
    original_rate: int | None = None
    original_channels: int | None = None

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def resample(x: "np.ndarray", rate_in: int, rate_out: int) -> "np.ndarray":
    """Resample a mono float signal with soxr (VHQ)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    if rate_in == rate_out:
        return x
    import soxr

    return soxr.resample(x, rate_in, rate_out, quality="VHQ").astype(np.float32)


def load_audio(path: Path | str, rate: int = MIMI_RATE) -> Audio:
    """Read ``path`` (wav/flac/ogg/… via libsndfile), mix to mono, resample to ``rate``.

    Raises AudioError naming the file for a missing or unreadable file, 0 samples, or NaN/inf."""
    import numpy as np
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: file not found")
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError with libsndfile's text
        raise AudioError(f"{p}: not a readable audio file ({exc})") from None
    channels = data.shape[1]
    if data.shape[0] == 0:
        raise AudioError(f"{p}: the clip has 0 samples")
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise AudioError(f"{p}: {bad} samples are NaN or infinite")
    mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    return Audio(resample(mono, sr, rate), rate, str(p), original_rate=int(sr), original_channels=int(channels))


# -- shared helpers for the reconstruction and representation checks ------------------------------------

def rms_dbfs(x: "np.ndarray") -> float:
    """RMS level of ``x`` in dB relative to full scale (1.0); ``-inf`` for digital silence or no samples."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(x * x)))
    return 20.0 * float(np.log10(rms)) if rms > 0 else float("-inf")


def is_silent(x: "np.ndarray", threshold_dbfs: float) -> bool:
    """True when the whole clip's RMS level is below ``threshold_dbfs`` (digital silence always is)."""
    return rms_dbfs(x) < threshold_dbfs


def clipped_fraction(x: "np.ndarray", level: float) -> float:
    """Fraction of samples whose magnitude reaches ``level`` (e.g. 0.999 of full scale): a clipped recording
    has runs of samples stuck at the rails. 0.0 for an empty clip."""
    import numpy as np

    x = np.asarray(x).reshape(-1)
    if x.size == 0:
        return 0.0
    return float(np.mean(np.abs(x) >= level))


def align_lengths(reference: "np.ndarray", other: "np.ndarray") -> tuple["np.ndarray", "np.ndarray"]:
    """Both signals cut to the shorter one's length (a decoder returns whole frames, so its output is
    usually a little longer than the input; a shorter output loses its tail, it is never stretched)."""
    import numpy as np

    reference = np.asarray(reference).reshape(-1)
    other = np.asarray(other).reshape(-1)
    n = min(len(reference), len(other))
    return reference[:n], other[:n]


def pad_to_multiple(x: "np.ndarray", hop: int) -> "np.ndarray":
    """``x`` zero-padded at the end to a whole number of ``hop``-sample frames (unchanged when it already is)."""
    import numpy as np

    if hop <= 0:
        raise ValueError(f"hop must be positive, got {hop}")
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    extra = -len(x) % hop
    return np.pad(x, (0, extra)) if extra else x


def windows(n_samples: int, window: int) -> list[slice]:
    """Consecutive non-overlapping ``window``-sample slices of a signal of ``n_samples`` (the remainder
    shorter than a window is left out). Empty when the signal is shorter than one window."""
    if window <= 0:
        raise ValueError(f"window must be positive, got {window}")
    return [slice(i, i + window) for i in range(0, n_samples - window + 1, window)]


def write_wav(path: Path | str, samples: "np.ndarray", rate: int) -> Path:
    """Write mono float samples as 16-bit PCM WAV (clipped to [-1, 1]); returns the path."""
    import numpy as np
    import soundfile as sf

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    x = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    sf.write(str(p), x, int(rate), subtype="PCM_16")
    return p


def write_float_wav(path: Path | str, samples: "np.ndarray", rate: int) -> Path:
    """Write mono 32-bit float WAV, not clipped (an untrained codec's audio can exceed ±1); returns the path.

    Written here rather than by libsndfile, whose float WAVs carry a PEAK chunk stamped with the time of
    writing: the same samples must give the same bytes on every run."""
    import struct

    import numpy as np

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    x = np.asarray(samples, dtype="<f4").reshape(-1)
    data = x.tobytes()
    fmt = struct.pack("<HHIIHHH", 3, 1, int(rate), int(rate) * 4, 4, 32, 0)  # IEEE float, mono, 32 bit, cbSize 0
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, x.size)
            + b"data" + struct.pack("<I", len(data)) + data)
    p.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return p


def samples_problem(x: "np.ndarray", label: str) -> str | None:
    """Why an in-memory clip is unusable (not 1-D, not float, empty, NaN/inf), or None; callers raise
    their own error type with this message."""
    import numpy as np

    if x.ndim != 1:
        return f"{label}: expected a 1-D array of samples, got shape {tuple(x.shape)}"
    if not np.issubdtype(x.dtype, np.floating):
        return f"{label}: expected float samples in [-1, 1], got dtype {x.dtype}"
    if x.size == 0:
        return f"{label}: the clip has 0 samples"
    if not np.isfinite(x).all():
        return f"{label}: {int((~np.isfinite(x)).sum())} samples are NaN or infinite"
    return None
