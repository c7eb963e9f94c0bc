"""checks.audio helpers (level, silence, clipping, alignment, frames, windows, WAV writing) and
checks.metrics.quality: PESQ that turns pesq's errors into evidence, and the log-spectral distance."""
from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from checks.audio import (
    align_lengths,
    clipped_fraction,
    is_silent,
    load_audio,
    pad_to_multiple,
    rms_dbfs,
    windows,
    write_wav,
)
from checks.metrics.quality import PesqResult, log_spectral_distance, pesq_wb


def speechlike(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal PESQ's voice-activity detector accepts as speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.5
    return (0.2 * voiced * envelope + 0.002 * rng.normal(size=t.size)).astype(np.float32)


def test_levels_silence_and_clipping():
    assert rms_dbfs(np.zeros(100)) == -math.inf
    assert rms_dbfs(np.array([])) == -math.inf
    assert rms_dbfs(np.ones(100)) == pytest.approx(0.0)
    assert rms_dbfs(np.full(100, 0.1)) == pytest.approx(-20.0)
    assert is_silent(np.zeros(10), -60.0)
    assert is_silent(np.full(100, 1e-4), -60.0)  # -80 dBFS
    assert not is_silent(np.full(100, 0.01), -60.0)  # -40 dBFS
    x = np.array([0.0, 0.5, 1.0, -1.0, 0.9995])
    assert clipped_fraction(x, 0.999) == pytest.approx(3 / 5)
    assert clipped_fraction(np.array([]), 0.999) == 0.0


def test_align_pad_and_windows():
    a, b = align_lengths(np.arange(10), np.arange(7))
    assert len(a) == len(b) == 7 and list(a) == list(range(7))
    assert len(pad_to_multiple(np.ones(1921), 1920)) == 3840
    assert len(pad_to_multiple(np.ones(3840), 1920)) == 3840
    assert pad_to_multiple(np.ones(5), 4)[-3:].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        pad_to_multiple(np.ones(3), 0)
    assert windows(10, 4) == [slice(0, 4), slice(4, 8)]
    assert windows(3, 4) == []
    with pytest.raises(ValueError):
        windows(10, 0)


def test_write_wav_round_trip_clips_to_full_scale(tmp_path):
    x = np.array([0.0, 0.5, -0.25, 2.0, -3.0], dtype=np.float32)
    p = write_wav(tmp_path / "sub" / "x.wav", x, 24000)
    y, sr = sf.read(str(p), dtype="float32")
    assert sr == 24000 and sf.info(str(p)).subtype == "PCM_16"
    assert np.allclose(y, [0.0, 0.5, -0.25, 1.0, -1.0], atol=1e-4)
    again = load_audio(p, rate=16000)
    assert again.original_rate == 24000 and again.rate == 16000


def test_pesq_ranks_clean_above_degraded_at_any_input_rate():
    rng = np.random.default_rng(1)
    for rate in (16000, 24000):
        x = speechlike(3.0, rate)
        clean = pesq_wb(x, x, rate)
        assert clean.ok and clean.value > 4.4 and clean.error is None
        scores = [pesq_wb(x, x + s * rng.normal(size=x.size).astype(np.float32), rate).value
                  for s in (0.003, 0.03, 0.1)]
        assert all(v is not None for v in scores)
        assert clean.value > scores[0] > scores[1] > scores[2]  # more noise, lower score
    # scale-invariant, and a decoder's extra tail is cut off
    x = speechlike(2.0, 16000)
    assert pesq_wb(x, 0.5 * np.concatenate([x, np.zeros(1920, np.float32)]), 16000).value == pytest.approx(
        pesq_wb(x, x, 16000).value, abs=0.05)


def test_pesq_errors_become_evidence_not_exceptions():
    x = speechlike(2.0, 16000)
    short = pesq_wb(x[:3000], x[:3000], 16000)  # 0.19 s
    assert (short.value, short.error) == (None, "too_short") and "0.25" in short.message
    silent = pesq_wb(np.zeros(32000, np.float32), x, 16000)
    assert silent.error == "silent_reference" and silent.value is None
    zero = pesq_wb(x, np.zeros_like(x), 16000)
    assert zero.error == "all_zero_output"
    bad = pesq_wb(x, np.full_like(x, np.nan), 16000)
    assert bad.error == "not_finite"
    assert "no score (too_short" in short.text()
    assert PesqResult(3.21).text() == "3.210"


def test_log_spectral_distance_orders_degradation():
    x = speechlike(2.0, 16000)
    rng = np.random.default_rng(2)
    assert log_spectral_distance(x, x, 16000) == pytest.approx(0.0, abs=1e-6)
    assert log_spectral_distance(x, 3 * x, 16000) == pytest.approx(0.0, abs=1e-3)  # level does not count
    a = log_spectral_distance(x, x + 0.01 * rng.normal(size=x.size), 16000)
    b = log_spectral_distance(x, x + 0.1 * rng.normal(size=x.size), 16000)
    assert 0 < a < b
    assert log_spectral_distance(np.zeros(32000), x, 16000) is None
    assert log_spectral_distance(x[:100], x[:100], 16000) is None


def test_float_wavs_read_back_exactly_and_are_the_same_bytes_every_time(tmp_path):
    """q11/q12 keep an untrained codec's audio unclipped as float WAV; the file must not carry the time it was
    written (libsndfile's PEAK chunk does), so a rerun gives the same bytes."""
    from checks.audio import write_float_wav

    x = (np.linspace(-3, 3, 24_000) * np.sin(np.arange(24_000) / 7)).astype(np.float32)  # beyond ±1 on purpose
    a, b = write_float_wav(tmp_path / "a.wav", x, 24_000), write_float_wav(tmp_path / "b.wav", x, 24_000)
    assert a.read_bytes() == b.read_bytes()
    y, rate = sf.read(str(a), dtype="float32")
    assert rate == 24_000 and np.array_equal(x, y)
    info = sf.info(str(a))
    assert info.subtype == "FLOAT" and info.channels == 1 and info.frames == x.size
