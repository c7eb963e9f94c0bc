"""`hw10 key` resumes from its on-disk cache: same inputs reuse, any changed input recomputes."""
import shutil

import pytest
import yaml
from conftest import ROOT

from hw10.cli import main

TINY = ROOT / "fixtures" / "tiny_mimi"


def run_key(tmp_path, out, *extra, assets=None, cache=None):
    args = ["key", "--questions", "1-5", "--mimi", str(TINY), "--device", "cpu",
            "--assets", str(assets or ROOT / "fixtures" / "assets"), "--out", str(out),
            "--cache", str(cache or tmp_path / "cache"), *extra]
    return main(args)


def answers(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["answers"], data["provenance"]


@pytest.mark.slow
def test_warm_rerun_reuses_everything_and_writes_the_same_key(tmp_path, capsys):
    assert run_key(tmp_path, tmp_path / "cold.yaml") == 0
    assert "reused from the cache" not in capsys.readouterr().out
    assert run_key(tmp_path, tmp_path / "warm.yaml") == 0
    assert "5 reused from the cache (q01, q02, q03, q04, q05)" in capsys.readouterr().out
    cold, cold_prov = answers(tmp_path / "cold.yaml")
    warm, warm_prov = answers(tmp_path / "warm.yaml")
    assert cold == warm
    assert warm["q05"]["status"] == "computed" and warm["q05"]["correct"] == ["D"]
    # the model was not loaded on the warm run, yet the key still says which model produced it
    assert warm_prov["models"]["mimi"]["from_cache"] is True
    assert warm_prov["models"]["mimi"]["description"] == cold_prov["models"]["mimi"]["description"]


def test_a_changed_asset_recomputes_only_what_uses_it(tmp_path, capsys):
    assets = tmp_path / "assets"
    shutil.copytree(ROOT / "fixtures" / "assets", assets)
    assert run_key(tmp_path, tmp_path / "a.yaml", assets=assets) == 0
    capsys.readouterr()
    data = bytearray((assets / "2sAudio.wav").read_bytes())
    data[20000:20200] = bytes(b ^ 0x55 for b in data[20000:20200])  # same length, different samples
    (assets / "2sAudio.wav").write_bytes(bytes(data))
    assert run_key(tmp_path, tmp_path / "b.yaml", assets=assets) == 0
    out = capsys.readouterr().out
    assert "reused from the cache (q02, q03, q05)" in out  # q01 and q04 read 2sAudio.wav


def test_no_cache_and_model_failures_are_not_cached(tmp_path, capsys):
    assert run_key(tmp_path, tmp_path / "a.yaml", "--no-cache") == 0
    assert not (tmp_path / "cache").exists()
    bad = tmp_path / "not_a_model"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "mimi"}', encoding="utf-8")
    main(["key", "--questions", "4", "--mimi", str(bad), "--device", "cpu", "--assets",
          str(ROOT / "fixtures" / "assets"), "--out", str(tmp_path / "b.yaml"), "--cache", str(tmp_path / "c2")])
    capsys.readouterr()
    entries = [p for p in (tmp_path / "c2").rglob("outcome.yaml")] if (tmp_path / "c2").exists() else []
    assert entries == []


def test_half_written_entries_are_ignored(tmp_path, capsys):
    assert run_key(tmp_path, tmp_path / "a.yaml") == 0
    for entry in (tmp_path / "cache").rglob("outcome.yaml"):
        entry.write_text("format: hw10-key-cache/1\nqid: [broken", encoding="utf-8")
    capsys.readouterr()
    assert run_key(tmp_path, tmp_path / "b.yaml") == 0
    assert "reused from the cache" not in capsys.readouterr().out
    assert answers(tmp_path / "a.yaml")[0] == answers(tmp_path / "b.yaml")[0]


def test_evidence_folders_hold_only_this_runs_files(tmp_path, capsys):
    """A reused --evidence-dir: an earlier run's files never sit next to (or get cached with) this run's."""
    evidence = tmp_path / "evidence"
    (evidence / "q01").mkdir(parents=True)
    stale = evidence / "q01" / "best_order_3210.wav"
    stale.write_bytes(b"an earlier run's audio")
    assert run_key(tmp_path, tmp_path / "k1.yaml", "--evidence-dir", str(evidence)) == 0
    assert not stale.exists()
    stale.write_bytes(b"an earlier run's audio")
    assert run_key(tmp_path, tmp_path / "k2.yaml", "--evidence-dir", str(evidence)) == 0  # from the cache
    assert "reused from the cache" in capsys.readouterr().out
    assert not stale.exists()


def test_cached_evidence_points_into_the_new_runs_folder(tmp_path):
    from checks.pipeline.cache import KeyCache, StoredEvidence
    from checks.pipeline.outcome import QuestionOutcome

    first, second = tmp_path / "run1" / "q07", tmp_path / "run2" / "q07"
    first.mkdir(parents=True)
    (first / "English_speech_decoded.wav").write_bytes(b"RIFF")
    ev = StoredEvidence("q07", "summary", {"measured": {"decoded_wav": str(first / "English_speech_decoded.wav")}})
    cache = KeyCache(tmp_path / "cache", {}, "test")
    cache.store("ab" * 32, QuestionOutcome("q07", "pending", reason="gated", evidence=ev, blocked_by="weights"),
                first, {})
    back = cache.load("ab" * 32, "q07", second)
    assert back.evidence.to_dict()["measured"]["decoded_wav"] == str(second / "English_speech_decoded.wav")
    assert (second / "English_speech_decoded.wav").read_bytes() == b"RIFF"


def test_the_cache_key_covers_every_module_under_checks(tmp_path):
    """A change in any subpackage of checks/ (not only its top folder) gives another source hash, so a cached
    question is recomputed after a code change."""
    import shutil

    from checks.pipeline.cache import checks_source_sha256

    root = tmp_path / "checks"
    shutil.copytree(ROOT / "checks", root, ignore=shutil.ignore_patterns("__pycache__"))
    before = checks_source_sha256(root)
    assert before == checks_source_sha256(ROOT / "checks")
    module = root / "questions" / "q05_codebook.py"
    module.write_text(module.read_text() + "\n# changed\n")
    changed = checks_source_sha256(root)
    assert changed != before
    (root / "metrics" / "new_metric.py").write_text("X = 1\n")
    assert checks_source_sha256(root) not in (before, changed)


def test_a_store_writes_through_a_new_folder_of_its_own(tmp_path):
    """What another run (or anyone) left beside an entry, even at the name older versions used for their temporary
    folder, is neither written into nor deleted; the entry arrives whole and nothing of this store is left over."""
    from checks.evidence import Evidence
    from checks.pipeline.cache import KeyCache
    from checks.pipeline.outcome import QuestionOutcome

    cache = KeyCache(tmp_path / "cache", {}, "0.1.0")
    key = "ab" * 32
    planted = tmp_path / "cache" / "ab" / f"{key}.tmp"
    planted.mkdir(parents=True)
    (planted / "theirs.txt").write_text("someone else's")
    outcome = QuestionOutcome("q01", "computed", ("B",), "structural", evidence=Evidence("q01", None, {}, "shapes"))
    cache.store(key, outcome, None, {})
    assert (planted / "theirs.txt").read_text() == "someone else's"
    assert sorted(p.name for p in planted.parent.iterdir()) == [key, planted.name]
    assert cache.load(key, "q01", None).correct == ("B",)
    cache.store(key, outcome, None, {})  # a second store replaces its own entry, nothing else
    assert sorted(p.name for p in planted.parent.iterdir()) == [key, planted.name]
