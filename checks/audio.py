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
