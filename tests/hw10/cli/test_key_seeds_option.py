"""`hw10 key --seeds N` repeats every stochastic step N times and the key records it; fragile evidence is flagged."""
import pytest
import yaml
from conftest import ROOT

from checks.pipeline.outcome import is_fragile
from hw10.cli import main


@pytest.mark.slow
def test_seeds_sets_the_number_of_umap_fits(tmp_path, capsys):
    out = tmp_path / "key.yaml"
    assert main(["key", "--questions", "6", "--mimi", str(ROOT / "fixtures" / "tiny_mimi"), "--device", "cpu",
                 "--assets", str(ROOT / "fixtures" / "assets"), "--per-class", "6", "--seeds", "2",
                 "--out", str(out), "--no-cache"]) == 0
    capsys.readouterr()
    key = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert key["provenance"]["seeds"] == 2
    assert key["answers"]["q06"]["evidence"]["measured"]["umap_seeds"] == [0, 1]
    assert "--seeds 2" in key["provenance"]["command"]


def test_fragile_flag_comes_from_the_verdicts():
    why = "0.31 >= 0.25; FRAGILE: UMAP seeds disagree (2/5)"
    assert is_fragile({"verdicts": {"C": {"verdict": "true", "why": why}}})
    assert not is_fragile({"verdicts": {"C": {"verdict": "true", "why": "0.31 >= 0.25"}}})
    assert not is_fragile(None)
