"""Resemblyzer's GE2E voice encoder, in this tree: the same network, preprocessing and weights as the PyPI package
Resemblyzer 0.1.4 (Apache-2.0, Resemble AI), without its packaging.

Why in-tree: Resemblyzer declares ``webrtcvad``, a 2017 source-only package that needs a compiler and no longer
imports with current setuptools, so ``pip install resemblyzer`` is not one clean command. The same module ships as
binary wheels in ``webrtcvad-wheels`` (the models extra); this module reproduces Resemblyzer's code path (a test
compares the two on the fixture voices) and reads its weights without importing it.

The procedure (``resemblyzer.preprocess_wav`` then ``VoiceEncoder.embed_utterance``), at 16 kHz:

1. volume normalised up to −30 dBFS (never down);
2. long silences trimmed: webrtcvad (mode 3) on 30 ms windows, moving average over 8 windows, dilated by 6;
3. a mel spectrogram (librosa: 25 ms window, 10 ms hop, 40 mels, power, not log);
4. partials of 160 frames (1.6 s) at 1.3 per second, the last kept with ≥ 75 % real frames;
5. a 3-layer LSTM (256) → linear → ReLU → L2 norm per partial; the clip's embedding is the L2-normed mean.

Weights (``pretrained.pt``, SHA-256 :data:`WEIGHTS_SHA256`) are found, in order: inside an installed Resemblyzer
package (located, not imported), in hw10's cache, or downloaded once from PyPI's simple index (the Resemblyzer
0.1.4 wheel, its SHA-256 :data:`WHEEL_SHA256` checked, then the file's). numpy, scipy, librosa, webrtcvad and torch
are imported when used.
"""
from __future__ import annotations

import hashlib
import html
import io
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from grader.outfolder import file_sha256

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

SAMPLING_RATE = 16_000
MEL_WINDOW_MS, MEL_STEP_MS, MEL_CHANNELS = 25, 10, 40
PARTIAL_FRAMES = 160
"""Frames per partial utterance (1.6 s)."""
VAD_WINDOW_MS, VAD_AVERAGE_WIDTH, VAD_MAX_SILENCE = 30, 8, 6
NORM_TARGET_DBFS = -30
HIDDEN, EMBEDDING, LAYERS = 256, 256, 3
INT16_MAX = 2 ** 15 - 1

VERSION = "0.1.4"
"""The Resemblyzer release whose weights these are."""
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
"""``resemblyzer/pretrained.pt`` of Resemblyzer 0.1.4."""
WHEEL = f"Resemblyzer-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f"
PYPI = "https://pypi.org"
"""The package index the wheel is looked up in (``$HW10_PYPI_URL`` overrides it: a mirror, or a test's server)."""
TIMEOUT_S = 30.0


class WeightsError(RuntimeError):
    """The encoder's weights cannot be found, downloaded or trusted; the message says what to do."""


def cache_path() -> Path:
    """Where downloaded weights are kept: ``$HW10_CACHE/resemblyzer-0.1.4/pretrained.pt`` (default
    ``~/.cache/hw10``)."""
    base = os.environ.get("HW10_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "hw10")
    return Path(base) / f"resemblyzer-{VERSION}" / "pretrained.pt"


def installed_weights() -> Path | None:
    """``pretrained.pt`` inside an installed Resemblyzer package (found without importing it), or None."""
    spec = find_spec("resemblyzer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    return None


def locate_weights() -> tuple[Path | None, str]:
    """(a trusted local ``pretrained.pt`` or None, where it is / why not): the installed package's, else the cache's
    (each only when its SHA-256 is :data:`WEIGHTS_SHA256`). Reads nothing from the network."""
    notes = []
    for where, path in (("installed resemblyzer package", installed_weights()), ("hw10 cache", cache_path())):
        if path is None or not path.is_file():
            continue
        if file_sha256(path) == WEIGHTS_SHA256:
            return path, f"{where}: {path}"
        notes.append(f"{path} is not Resemblyzer {VERSION}'s pretrained.pt (SHA-256 differs)")
    return None, "; ".join(notes) or "not installed and not cached"


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"{url} answers {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsError(f"cannot download {url} ({reason}); on a machine without internet, copy Resemblyzer "
                           f"{VERSION}'s pretrained.pt to {cache_path()} (or pip install --no-deps "
                           f"resemblyzer=={VERSION})") from None


def index_url() -> str:
    """The package index page listing Resemblyzer's files (PEP 503, what pip reads): ``$HW10_PYPI_URL/simple/
    resemblyzer/``, default PyPI's."""
    return os.environ.get("HW10_PYPI_URL", PYPI).rstrip("/") + "/simple/resemblyzer/"


def wheel_link(page: str, base: str) -> str | None:
    """The absolute URL of :data:`WHEEL` on a PEP 503 index page (``base``: the page's URL), or None.

    >>> wheel_link('<a href="../../f/Resemblyzer-0.1.4-py3-none-any.whl#sha256=ab">x</a>', "https://i.org/simple/r/")
    'https://i.org/f/Resemblyzer-0.1.4-py3-none-any.whl'
    """
    for href in re.findall(r'href="([^"]+)"', page):
        url = urllib.parse.urljoin(base, html.unescape(href)).split("#", 1)[0]
        if url.rsplit("/", 1)[-1] == WHEEL:
            return url
    return None


def download_weights(wheel_sha256: str = WHEEL_SHA256) -> Path:
    """Fetch the Resemblyzer wheel from the package index (:func:`index_url`), check its SHA-256
    (``wheel_sha256``: the published wheel's), take ``pretrained.pt`` out of it, check that too, and keep it in
    :func:`cache_path` (written to a temporary name, then renamed)."""
    page_url = index_url()
    url = wheel_link(_get(page_url).decode("utf-8", "replace"), page_url)
    if url is None:
        raise WeightsError(f"the package index {page_url} does not list {WHEEL}")
    wheel = _get(url)
    if hashlib.sha256(wheel).hexdigest() != wheel_sha256:
        raise WeightsError(f"{url} is not the published {WHEEL} (SHA-256 differs); not used")
    try:
        weights = zipfile.ZipFile(io.BytesIO(wheel)).read("resemblyzer/pretrained.pt")
    except (zipfile.BadZipFile, KeyError):
        raise WeightsError(f"{WHEEL} holds no resemblyzer/pretrained.pt") from None
    if hashlib.sha256(weights).hexdigest() != WEIGHTS_SHA256:
        raise WeightsError(f"pretrained.pt in {WHEEL} has an unexpected SHA-256; not used")
    target = cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # new, unguessable
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(weights)
        os.replace(tmp, target)  # the checked weights, whole, under their name
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def weights_path() -> tuple[Path, str]:
    """A trusted ``pretrained.pt`` and where it came from: installed, cached, or downloaded now."""
    path, where = locate_weights()
    if path is not None:
        return path, where
    path = download_weights()
    return path, f"downloaded from PyPI into {path}"


def build_model(weights: Path, device: str = "cpu"):
    """The GE2E network with Resemblyzer's weights (``torch.load(weights_only=True)``), in eval mode."""
    import torch
    from torch import nn

    class GE2E(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(MEL_CHANNELS, HIDDEN, LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, EMBEDDING)
            self.relu = nn.ReLU()

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    model = GE2E()
    state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
    # the checkpoint also holds the GE2E loss's similarity weight and bias, which embedding does not use
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
    return model.eval().to(device)


def normalize_volume(wav: "np.ndarray") -> "np.ndarray":
    """Raise the level to :data:`NORM_TARGET_DBFS` (a louder clip is left as it is)."""
    import numpy as np

    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    change = NORM_TARGET_DBFS - 20 * np.log10(rms / INT16_MAX)
    return wav if change < 0 else wav * (10 ** (change / 20))


def trim_long_silences(wav: "np.ndarray") -> "np.ndarray":
    """Cut silences longer than the VAD settings allow (the clip's end is cut to whole 30 ms windows first)."""
    import numpy as np
    import webrtcvad
    from scipy.ndimage import binary_dilation

    window = VAD_WINDOW_MS * SAMPLING_RATE // 1000
    wav = wav[:len(wav) - len(wav) % window]
    pcm = np.round(wav * INT16_MAX).astype("<i2").tobytes()
    vad = webrtcvad.Vad(mode=3)
    flags = np.array([vad.is_speech(pcm[s * 2:(s + window) * 2], sample_rate=SAMPLING_RATE)
                      for s in range(0, len(wav), window)])
    width = VAD_AVERAGE_WIDTH
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    csum = np.cumsum(padded, dtype=float)
    csum[width:] = csum[width:] - csum[:-width]
    mask = np.round(csum[width - 1:] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(VAD_MAX_SILENCE + 1))
    return wav[np.repeat(mask, window)]


def preprocess(wav: "np.ndarray") -> "np.ndarray":
    """Resemblyzer's ``preprocess_wav`` for a 16 kHz clip: volume normalised, long silences trimmed."""
    return trim_long_silences(normalize_volume(wav))


def mel_spectrogram(wav: "np.ndarray") -> "np.ndarray":
    """``[frames, 40]`` float32 power mel spectrogram (not log), as the encoder was trained on."""
    import librosa
    import numpy as np

    frames = librosa.feature.melspectrogram(y=wav, sr=SAMPLING_RATE, n_fft=SAMPLING_RATE * MEL_WINDOW_MS // 1000,
                                            hop_length=SAMPLING_RATE * MEL_STEP_MS // 1000, n_mels=MEL_CHANNELS)
    return frames.astype(np.float32).T


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> tuple[list[slice], list[slice]]:
    """(waveform slices, mel slices) of the 1.6 s partial utterances covering ``n_samples`` (Resemblyzer's
    ``compute_partial_slices``): ``rate`` partials per second; the last is dropped when it has less than
    ``min_coverage`` real audio, unless it is the only one.

    >>> w, m = partial_slices(16_000 * 3)
    >>> [(s.start, s.stop) for s in m]
    [(0, 160), (77, 237), (154, 314)]
    """
    import numpy as np

    per_frame = SAMPLING_RATE * MEL_STEP_MS // 1000
    n_frames = int(np.ceil((n_samples + 1) / per_frame))
    step = int(np.round((SAMPLING_RATE / rate) / per_frame))
    if not 0 < step <= PARTIAL_FRAMES:
        raise ValueError(f"rate {rate} gives a step of {step} frames; it must be 1…{PARTIAL_FRAMES}")
    mel_slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)]
    wav_slices = [slice(s.start * per_frame, s.stop * per_frame) for s in mel_slices]
    last = wav_slices[-1]
    if (n_samples - last.start) / (last.stop - last.start) < min_coverage and len(mel_slices) > 1:
        mel_slices, wav_slices = mel_slices[:-1], wav_slices[:-1]
    return wav_slices, mel_slices
