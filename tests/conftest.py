"""Shared fixtures for the grader tests. Paths are real files in the repository."""
from __future__ import annotations

from pathlib import Path

import pytest

from checks.bench.stage import fixture_script  # noqa: F401  (re-exported: `from conftest import fixture_script`)
from grader.key import AnswerKey, KeyAnswer, write_key
from grader.spec import load_bank

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample_class"


@pytest.fixture(autouse=True, scope="session")
def _private_key_cache(tmp_path_factory):
    """`hw10 key` caches results; tests get a cache of their own, never the user's ~/.cache/hw10/key."""
    import os

    old = os.environ.get("HW10_KEY_CACHE")
    os.environ["HW10_KEY_CACHE"] = str(tmp_path_factory.mktemp("key-cache"))
    yield
    if old is None:
        os.environ.pop("HW10_KEY_CACHE", None)
    else:
        os.environ["HW10_KEY_CACHE"] = old


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for the module using it (restored after): on a shared 2-core machine two
    OpenMP threads competing with another busy process spin-wait and run these models several times slower.
    Modules use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def bank():
    return load_bank(ROOT / "questions")


SAMPLE_CORRECT = {"q01": ["B"], "q02": ["C"], "q03": ["B"], "q04": ["B"], "q05": ["C"], "q06": ["A", "B", "D", "E"],
                  "q07": ["C"], "q08": ["C"], "q09": ["B"], "q10": ["A", "C", "F"], "q11": ["C"], "q12": ["A"]}


def make_key(bank, correct=None, pending=(), policies=None, status="asserted") -> AnswerKey:
    correct = dict(SAMPLE_CORRECT if correct is None else correct)
    answers = {}
    for q in bank.ids:
        if q in pending:
            answers[q] = KeyAnswer(status="pending", reason="needs the real model")
        else:
            answers[q] = KeyAnswer(correct=correct[q], status=status, policy=(policies or {}).get(q))
    return AnswerKey(format="hw10-key/1", questions_sha256=bank.sha256(), provenance={"kind": "test"}, answers=answers)


@pytest.fixture
def key_file(tmp_path, bank):
    def _write(**kwargs) -> Path:
        path = tmp_path / f"key{len(list(tmp_path.glob('key*.yaml')))}.yaml"
        write_key(make_key(bank, **kwargs), path)
        return path
    return _write


def pytest_collection_modifyitems(config, items):
    """Markers by folder (tests mirror the packages): tests/checks/ and tests/fixtures/ run model code
    (``models``), tests/reports/ drives Chromium (``browser``). ``slow`` is set in the test modules themselves.

    Then whole modules in the order the two test workers should take them (tools/test.sh hands out modules in
    collection order): the ``longest`` module first, then modules running models or a browser, then the rest (quick
    ones, which fill the gaps at the end). Collection order within each group."""
    tests = Path(__file__).resolve().parent
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(tests).parts
        if parts[0] in ("checks", "fixtures"):
            item.add_marker(pytest.mark.models)
        if parts[0] == "reports":
            item.add_marker(pytest.mark.browser)
    rank: dict[str, int] = {}
    for item in items:
        mine = (0 if item.get_closest_marker("longest") else
                1 if any(item.get_closest_marker(m) for m in ("models", "browser", "slow")) else 2)
        rank[item.path] = min(mine, rank.get(item.path, 2))
    items.sort(key=lambda item: rank[item.path])
