"""checks.models.speaker with real encoders, no mocks: Resemblyzer's encoder (in-tree, :mod:`checks.models.ge2e`, with
the installed package's weights) tells the espeak-ng Alice and James fixtures apart on held-out sentences, refuses
silence, batches exactly and equals the Resemblyzer package itself; the WavLM
x-vector path runs on a tiny randomly initialised model saved to a local folder (the real
microsoft/wavlm-base-plus-sv downloads on the TA's machine)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("resemblyzer")
sf = pytest.importorskip("soundfile")

from checks.audio import load_audio  # noqa: E402
from checks.models.speaker import (  # noqa: E402
    SpeakerError,
    SpeechGate,
    cosine,
    load_speaker_encoder,
    rms_dbfs,
    similarity_matrix,
)

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "fixtures" / "assets"
VOICES = ROOT / "fixtures" / "voices"
CLIPS = [ASSETS / "alice.wav", ASSETS / "james.wav", VOICES / "alice_heldout.wav", VOICES / "james_heldout.wav"]

SEPARATION = 0.15
"""How much closer a held-out sentence must be to its own speaker than to the other one.
Measured with these fixtures: 0.31 for Alice (0.88 vs 0.57), 0.35 for James (0.91 vs 0.56)."""


@pytest.fixture(scope="module")
def resemblyzer():
    return load_speaker_encoder("resemblyzer", device="cpu")


@pytest.fixture(scope="module")
def embeddings(resemblyzer):
    """alice, james, alice_heldout, james_heldout: one batched call."""
    return resemblyzer.embed(CLIPS)


def test_embeddings_are_unit_vectors(embeddings):
    assert embeddings.shape == (4, 256) and embeddings.dtype == np.float32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_heldout_sentences_are_closer_to_their_own_speaker(embeddings):
    sim = similarity_matrix(embeddings[2:], embeddings[:2])  # rows: held-out alice, james; cols: alice, james
    alice_to_alice, alice_to_james = sim[0]
    james_to_alice, james_to_james = sim[1]
    assert alice_to_alice > alice_to_james + SEPARATION, sim
    assert james_to_james > james_to_alice + SEPARATION, sim
    assert alice_to_alice > 0.75 and james_to_james > 0.75, sim


@pytest.fixture(scope="module")
def package():
    """The Resemblyzer package's own encoder (installed --no-deps in the test environment), to compare against."""
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def test_in_tree_encoder_batched_equals_the_resemblyzer_package_clip_by_clip(package, embeddings):
    """checks.models.ge2e (network, VAD trimming, mel, partials) is Resemblyzer 0.1.4: the same vectors."""
    from resemblyzer import preprocess_wav

    for clip, row in zip(CLIPS, embeddings):
        own = package.embed_utterance(preprocess_wav(load_audio(clip, 16_000).samples))
        assert np.abs(own - row).max() < 1e-5


def test_arrays_at_other_rates_are_resampled(resemblyzer, embeddings):
    x24 = load_audio(CLIPS[0], 24_000).samples
    (e,) = resemblyzer.embed([x24], rate=24_000)
    assert cosine(e, embeddings[0]) > 0.99


def test_empty_batch(resemblyzer):
    assert resemblyzer.embed([]).shape == (0, 256)


def test_describe(resemblyzer):
    d = resemblyzer.describe()
    assert d.startswith("resemblyzer ") and "sha256=" in d and "device=cpu" in d and "soxr VHQ" in d


# ----------------------------------------------------------------------------- silence and junk refused


def _speech(seconds: float) -> "np.ndarray":
    return load_audio(CLIPS[0], 16_000).samples[: int(seconds * 16_000)]


@pytest.mark.parametrize(
    "clip, message",
    [
        (np.zeros(48_000, dtype=np.float32), r"silent or nearly so \(RMS -inf"),
        (1e-4 * np.random.default_rng(0).standard_normal(48_000).astype(np.float32), r"RMS -80\.0 dBFS"),
        (np.concatenate([np.zeros(40_000, np.float32), _speech(0.5), np.zeros(40_000, np.float32)]), "of voiced audio"),
        (np.zeros((2, 16_000), dtype=np.float32), "1-D"),
        (np.zeros(16_000, dtype=np.int16), "dtype int16"),
        (np.array([np.nan] * 16_000, dtype=np.float32), "NaN"),
    ],
)
def test_non_speech_is_refused_and_named(resemblyzer, clip, message):
    with pytest.raises(SpeakerError, match=f"clip 1: .*{message}"):
        resemblyzer.embed([_speech(3.0), clip])


def test_silent_file_is_refused_by_name(resemblyzer, tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, np.zeros(32_000, dtype=np.int16), 16_000)
    with pytest.raises(SpeakerError, match="quiet.wav: silent"):
        resemblyzer.embed([path])


def test_resemblyzer_alone_would_embed_silence(package):
    """Why the gate exists: Resemblyzer itself returns a vector for (almost) silence without complaint."""
    noise = 1e-4 * np.random.default_rng(1).standard_normal(48_000).astype(np.float32)
    v = package.embed_utterance(noise)
    assert v.shape == (256,) and np.isfinite(v).all()


def test_gate_is_configurable():
    enc = load_speaker_encoder("resemblyzer", gate=SpeechGate(min_rms_dbfs=-90.0, min_voiced_seconds=0.0), device="cpu")
    assert enc.embed([_speech(3.0)]).shape == (1, 256)
    assert enc.gate.min_rms_dbfs == -90.0


# ----------------------------------------------------------------------------- pure helpers


def test_rms_dbfs():
    assert rms_dbfs(np.zeros(10, np.float32)) == float("-inf")
    assert rms_dbfs(np.ones(10, np.float32)) == pytest.approx(0.0)
    assert rms_dbfs(np.full(10, 0.1, np.float32)) == pytest.approx(-20.0, abs=1e-4)


def test_cosine_and_matrix():
    a, b = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    assert cosine(a, b) == pytest.approx(2**-0.5)
    m = similarity_matrix(np.stack([a, b]), np.stack([a]))
    assert m.shape == (2, 1) and m[1, 0] == pytest.approx(2**-0.5)
    with pytest.raises(SpeakerError, match="no direction"):
        cosine(a, np.zeros(2))
    with pytest.raises(SpeakerError, match="differ"):
        cosine(a, np.ones(3))
    with pytest.raises(SpeakerError, match="no direction"):
        similarity_matrix(np.zeros((1, 2)), np.ones((1, 2)))


@pytest.mark.parametrize("spec", ["resemblyzer:xyz", "ecapa", "", "wav2vec"])
def test_bad_spec(spec):
    with pytest.raises(SpeakerError, match="not understood"):
        load_speaker_encoder(spec)


# ----------------------------------------------------------------------------- WavLM x-vector (transformers)


@pytest.fixture(scope="module")
def tiny_wavlm_folder(tmp_path_factory) -> Path:
    """A randomly initialised, tiny WavLMForXVector plus feature extractor, saved like a Hub model.
    Its embeddings identify nobody; it exercises the real loading and batching code offline."""
    pytest.importorskip("transformers")
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

    torch.manual_seed(0)
    config = WavLMConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32, 32), conv_stride=(5, 4, 4), conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        tdnn_dim=(32, 32, 64), tdnn_kernel=(3, 3, 1), tdnn_dilation=(1, 2, 1),
        xvector_output_dim=16, classifier_proj_size=16, num_buckets=32, max_bucket_distance=100,
    )
    folder = tmp_path_factory.mktemp("wavlm")
    WavLMForXVector(config).save_pretrained(folder)
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, do_normalize=True,
                                         return_attention_mask=True)
    extractor.save_pretrained(folder)
    return folder


def test_wavlm_embeds_in_batches_independent_of_batch(tiny_wavlm_folder):
    enc = load_speaker_encoder(f"wavlm:{tiny_wavlm_folder}", device="cpu")
    x = load_audio(CLIPS[0], 16_000).samples
    clips = [x, CLIPS[1], x[: 16_000 * 3]]  # two different lengths → two batches
    batch = enc.embed(clips)
    assert batch.shape == (3, 16)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    alone = np.concatenate([enc.embed([c]) for c in clips])
    assert np.abs(batch - alone).max() < 1e-5
    assert str(tiny_wavlm_folder) in enc.describe()
    with pytest.raises(SpeakerError, match="clip 0: silent"):
        enc.embed([np.zeros(32_000, np.float32)])


def test_wavlm_folder_without_a_model_is_named(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(SpeakerError, match="could not be loaded as a WavLM x-vector model") as err:
        load_speaker_encoder(f"wavlm:{tmp_path}", device="cpu")
    assert str(tmp_path) in str(err.value)


# ----------------------------------------------------------------------------- the fixtures themselves


def test_alice_and_james_fixtures_are_equal_length_24khz_with_texts():
    a, j = sf.info(ASSETS / "alice.wav"), sf.info(ASSETS / "james.wav")
    assert a.samplerate == j.samplerate == 24_000 and a.channels == j.channels == 1
    assert a.frames == j.frames and a.frames % 1920 == 0  # equal length, whole Mimi frames
    assert 4.0 <= a.frames / 24_000 <= 6.0
    assert (ASSETS / "alice.txt").read_text(encoding="utf-8").strip()
    assert (ASSETS / "james.txt").read_text(encoding="utf-8").strip()
    for path in [*CLIPS, *sorted(VOICES.glob("q09_*.wav"))]:
        assert path.stat().st_size < 300_000, path


@pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("espeak-ng", "sox", "soxi")), reason="needs espeak-ng and sox"
)
def test_voice_fixtures_match_their_script(tmp_path):
    """The committed WAVs are exactly what fixtures/make_voices.py writes (espeak-ng and sox are deterministic), also
    when run as the first espeak-ng of a fresh machine: a HOME of its own and no XDG_RUNTIME_DIR, where libpulse (which
    espeak-ng probes on start-up) would name a new /tmp/pulse-* folder with rand() calls and so shift the unseeded noise
    of Alicia's voice unless the script runs its tools in make_voices.tool_env (without it, this fails every time)."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR" and not k.startswith("PULSE_")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "fixtures" / "make_voices.py"), "--check"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
