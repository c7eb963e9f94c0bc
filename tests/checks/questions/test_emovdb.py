"""The EmoV-DB loader on the committed replica (real layout: bea/jenie/sam/josh, style prefixes, josh
without anger/disgust), other folder layouts, the deterministic balanced subset, and every bad folder."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checks.questions.emovdb import LABELS, SPEAKERS, EmovdbError, balanced_subset, counts, resolve_folder, scan

ROOT = Path(__file__).resolve().parents[3]
REPLICA = ROOT / "fixtures" / "assets" / "emovdb"


@pytest.fixture(scope="module")
def clips():
    return scan(REPLICA)


def copy_replica(dst: Path) -> Path:
    shutil.copytree(REPLICA, dst)
    return dst


def test_committed_replica_is_small_and_has_the_real_layout(clips):
    size = sum(p.stat().st_size for p in REPLICA.rglob("*") if p.is_file())
    assert size < 2_000_000
    assert {c.speaker for c in clips} == set(SPEAKERS)
    table = counts(clips)
    assert set(table) == set(LABELS)
    assert "josh" not in table["angry"] and "josh" not in table["disgusted"]
    assert table["amused"] == {"bea": 2, "jenie": 2, "josh": 2, "sam": 2}
    c = next(c for c in clips if c.path.name.startswith("sleepiness_"))
    assert (c.label, c.style) == ("sleepy", "sleepiness") and c.sentences == "1-28" and c.index >= 1
    assert {c.style for c in clips} == {"amused", "anger", "disgust", "neutral", "sleepiness"}


def test_speaker_from_other_folder_layouts(tmp_path):
    src = next(REPLICA.glob("bea/anger_*.wav"))
    for rel in ("bea_Angry/anger_1-28_0001.wav", "Jenie/Angry/anger_1-28_0002.wav", "loose/anger_1-28_0003.wav",
                "sam-angry/ANGER_1-28_0004.wav"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, p)
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "readme_1-2_0001.wav").write_bytes(b"")  # unknown style: ignored
    found = {c.path.name: c.speaker for c in scan(tmp_path)}
    assert found == {"anger_1-28_0001.wav": "bea", "anger_1-28_0002.wav": "jenie", "anger_1-28_0003.wav": "unknown",
                     "ANGER_1-28_0004.wav": "sam"}


def test_balanced_subset_is_deterministic_and_spread_over_speakers(clips):
    a = balanced_subset(clips, 6, seed=0)
    assert a == balanced_subset(clips, 6, seed=0)
    assert len(a) == 30 and [c.label for c in a] == [x for x in LABELS for _ in range(6)]
    for label in LABELS:
        per = counts(c for c in a if c.label == label)[label]
        assert max(per.values()) - min(per.values()) <= 1  # round robin over the speakers
    assert len({c.path for c in a}) == 30  # no clip twice
    others = [balanced_subset(clips, 4, seed=s) for s in range(1, 6)]
    assert any(o != balanced_subset(clips, 4, seed=0) for o in others)  # the seed matters
    only_women = balanced_subset(clips, 4, speakers=["bea", "jenie"], seed=0)
    assert {c.speaker for c in only_women} == {"bea", "jenie"}


def test_resolve_folder(tmp_path):
    assert resolve_folder(REPLICA, None) == REPLICA
    assert resolve_folder(None, REPLICA.parent) == REPLICA
    with pytest.raises(EmovdbError, match="pass --emovdb DIR"):
        resolve_folder(None, None)
    with pytest.raises(EmovdbError, match=r"emovdb/ not found in .*pass --emovdb"):
        resolve_folder(None, tmp_path)
    with pytest.raises(EmovdbError, match="no such folder"):
        resolve_folder(tmp_path / "nope", None)
    f = tmp_path / "file.wav"
    f.write_bytes(b"")
    with pytest.raises(EmovdbError, match="not a folder"):
        resolve_folder(f, None)


def test_a_folder_that_is_not_emovdb(tmp_path):
    with pytest.raises(EmovdbError, match="no .wav files"):
        scan(tmp_path)
    for name in ("2sAudio.wav", "happy_1-2_0001.wav", "amused.wav"):
        shutil.copy(ROOT / "fixtures" / "assets" / "2sAudio.wav", tmp_path / name)
    with pytest.raises(EmovdbError, match=r"is not EmoV-DB.*3 other .wav files"):
        scan(tmp_path)


def test_a_class_missing_or_too_few_clips(tmp_path, clips):
    with pytest.raises(EmovdbError,
                       match=r"fewer clips than --per-class 9 for amused, angry, disgusted, neutral, sleepy"):
        balanced_subset(clips, 9)
    with pytest.raises(EmovdbError, match=r"fewer clips than --per-class 7 for angry, disgusted.*angry 6 \(bea 2"):
        balanced_subset(clips, 7)
    folder = copy_replica(tmp_path / "emovdb")
    for p in folder.rglob("sleepiness_*.wav"):
        p.unlink()
    with pytest.raises(EmovdbError, match=r"no sleepy clips: q06 needs every emotion"):
        balanced_subset(scan(folder), 2, folder=folder)
    with pytest.raises(EmovdbError, match=r"no angry, disgusted clips \(speakers josh\)"):
        balanced_subset(clips, 2, speakers=["josh"])
    with pytest.raises(EmovdbError, match="at least 1"):
        balanced_subset(clips, 0)
    with pytest.raises(EmovdbError, match="unknown speaker"):
        balanced_subset(clips, 2, speakers=["alice"])
    with pytest.raises(EmovdbError, match="unknown emotion"):
        balanced_subset(clips, 2, labels=["happy"])


NO_TOOLS = any(shutil.which(tool) is None for tool in ("espeak-ng", "sox"))


@pytest.mark.skipif(NO_TOOLS, reason="needs espeak-ng and sox")
def test_replica_script_writes_the_layout(tmp_path):
    spec = importlib.util.spec_from_file_location("make_emovdb_replica", ROOT / "fixtures" / "make_emovdb_replica.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.make_replica(tmp_path / "emovdb", per_speaker=1)
    assert len(written) == 18  # 4 speakers × 5 styles − josh's 2
    fresh = scan(tmp_path / "emovdb")
    assert counts(fresh)["angry"] == {"bea": 1, "jenie": 1, "sam": 1}
    committed = {c.name for c in scan(REPLICA)}
    assert {c.name for c in fresh} <= committed  # the same names the committed replica has


@pytest.mark.skipif(NO_TOOLS, reason="needs espeak-ng and sox")
def test_committed_replica_matches_its_script():
    """The committed replica is exactly what fixtures/make_emovdb_replica.py writes (deterministic tools)."""
    done = subprocess.run([sys.executable, str(ROOT / "fixtures" / "make_emovdb_replica.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_speakers_with_every_emotion_are_sampled_by_default(clips):
    """josh recorded no angry or disgusted clips: sampled anyway, his voice would mark three emotions and not the
    other two, and the silhouette would partly measure the speaker. q06 leaves him out and says so."""
    from checks.questions.emovdb import complete_speakers

    speakers, left_out = complete_speakers(clips)
    assert speakers == ["bea", "jenie", "sam"] and left_out == {"josh": ["angry", "disgusted"]}
    subset = balanced_subset(clips, 6, speakers=speakers, seed=0)
    table = counts(subset)
    assert all(table[label] == {"bea": 2, "jenie": 2, "sam": 2} for label in LABELS)  # the same cells everywhere
