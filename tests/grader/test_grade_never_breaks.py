"""`hw10 grade` on random bytes and on random exports with colliding, mangled ids and junk cells: it exits 0 or 2,
never with a traceback; it never modifies its input; and when it exits 0, every student of the input is in
scores.csv exactly once (issue 12's "done when")."""
from __future__ import annotations

import csv
import hashlib
import io

import pytest
from conftest import SAMPLE_CORRECT, make_key
from exportkit import Row, export_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.key import dump_key
from hw10.cli import main

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def key_path(tmp_path_factory, bank):
    path = tmp_path_factory.mktemp("key") / "key.yaml"
    path.write_text(dump_key(make_key(bank, correct=SAMPLE_CORRECT)), encoding="utf-8")
    return path


def run(tmp_path, data: bytes, key_path, capsys) -> tuple[int, list[dict[str, str]] | None]:
    for old in tmp_path.glob("*"):
        if old.is_file():
            old.unlink()
    export = tmp_path / "export.csv"
    export.write_bytes(data)
    out = tmp_path / "out"
    before = hashlib.sha256(export.read_bytes()).hexdigest()
    rc = main(["grade", str(export), "--key", str(key_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc in (0, 2) and "Traceback" not in err
    assert hashlib.sha256(export.read_bytes()).hexdigest() == before  # the input is never modified
    if rc == 2:
        assert err.startswith("error: ")
        return rc, None
    return rc, list(csv.DictReader(io.StringIO((out / "scores.csv").read_bytes().decode("utf-8-sig"))))


@SETTINGS
@given(junk=st.binary(max_size=3000), prefix=st.sampled_from([b"", b"id,name,q01,q02\n", b"\xef\xbb\xbf"]))
def test_random_bytes_exit_0_or_2(tmp_path, key_path, capsys, junk, prefix):
    run(tmp_path, prefix + junk, key_path, capsys)


IDS = ["148200", "148201", "0123", "123", "1.48E+05", "148200.0", "a/b", "A/B", "ＡＢ", "x" * 300, "B09901001"]
NAMES = ["王冠宇", "林小美", "O'Neil, Pat", "=1+1", "\x1b[2J", "a\rb"]


@st.composite
def exports(draw, bank):
    rows = []
    person = {i: draw(st.sampled_from(NAMES)) for i in IDS}  # mostly one person per id …
    for _ in range(draw(st.integers(1, 10))):
        raw = {q: draw(st.one_of(st.just(""), st.text(max_size=30), st.sampled_from([o.text for o in bank[q].options])))
               for q in draw(st.sets(st.sampled_from(bank.ids), max_size=4))}
        sid = draw(st.sampled_from(IDS))
        name = draw(st.sampled_from(NAMES)) if draw(st.integers(0, 4)) == 0 else person[sid]  # … sometimes two
        rows.append(Row(sid, name=name,
                        section=draw(st.sampled_from(["S1", "S2"])), attempt=draw(st.one_of(st.none(),
                                                                                              st.integers(1, 3))),
                        raw=raw))
    return rows


@SETTINGS
@given(data=st.data())
def test_random_exports_lose_nobody_or_are_refused(tmp_path, bank, key_path, capsys, data):
    rows = data.draw(exports(bank))
    text = export_text(bank, rows)
    rc, scores = run(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"), key_path, capsys)
    if rc == 0:
        got = [r["id"] for r in scores]
        assert sorted(got) == sorted({r.id.strip() for r in rows})  # every student once, nobody merged or lost
        assert all(r["feedback"] for r in scores)
