"""Emily's and Jason's stand-in clips (fixtures/make_csm_voices.py): what the script makes, small, and two voices the
speaker encoder tells apart (each voice also says a held-out sentence, made here with espeak-ng)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.audio import load_audio
from checks.q11_conversation import SLIDE_TURNS
from conftest import fixture_script

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "fixtures" / "assets"

needs_espeak = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                  reason="needs espeak-ng and sox (apt-get install espeak-ng sox)")


def test_clips_are_small_speech_at_a_readable_rate():
    for name in ("emily", "jason"):
        path = ASSETS / f"{name}.wav"
        assert path.stat().st_size < 300_000
        clip = load_audio(path, 24_000)
        assert clip.original_rate == 16_000 and clip.original_channels == 1 and 4.0 < clip.seconds < 9.0


@needs_espeak
def test_committed_clips_are_what_the_script_makes(tmp_path):
    script = fixture_script("make_csm_voices")
    written = script.make_all(tmp_path)
    for path in written:
        assert path.read_bytes() == (ASSETS / path.name).read_bytes(), path.name
    assert script.lines() == {"emily": SLIDE_TURNS[0].text, "jason": SLIDE_TURNS[1].text}


@needs_espeak
def test_the_two_voices_separate(tmp_path):
    from make_voices import speak

    from checks.speaker import load_speaker_encoder

    script = fixture_script("make_csm_voices")
    held = {name: speak(script.HELDOUT_TEXT, voice, tmp_path / f"{name}_heldout.wav", 16_000)
            for name, voice in script.VOICES.items()}
    enc = load_speaker_encoder("resemblyzer", device="cpu")
    e = enc.embed([ASSETS / "emily.wav", held["emily"], ASSETS / "jason.wav", held["jason"]])
    same_emily, same_jason = float(e[0] @ e[1]), float(e[2] @ e[3])
    across = [float(e[0] @ e[2]), float(e[1] @ e[3]), float(e[0] @ e[3]), float(e[1] @ e[2])]
    assert same_emily >= 0.79 and same_jason >= 0.79, (same_emily, same_jason)
    assert max(across) <= 0.64, across
    assert min(same_emily, same_jason) - max(across) >= 0.2
