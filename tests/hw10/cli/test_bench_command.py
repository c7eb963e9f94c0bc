"""`hw10 bench`: the table it prints, its stage names, and its exit codes (speed itself is never asserted)."""
import sys

import pytest

from grader.bench import MODEL_STAGES, STAGES
from hw10.cli import main


def test_bench_prints_a_table_for_the_grade_stage(capsys):
    assert main(["bench", "--stages", "grade", "--students", "40"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["stage", "naive", "s", "ours"] and "peak MB" in lines[0]
    assert lines[2].startswith("grade 40 students (new folder)") and "40 feedback pages" in lines[2]
    assert lines[3].startswith("grade 40 students (rerun, same folder)")
    assert "CPU " in lines[3] and " kernel " in lines[3]
    assert lines[4].startswith("disk: create 80 files")


def test_bench_refuses_an_unknown_stage_before_running_anything(capsys):
    assert main(["bench", "--stages", "grade,q9"]) == 2
    captured = capsys.readouterr()
    assert "no stage 'q9'" in captured.err and "q09" in captured.err
    assert "grade" not in captured.out  # nothing was measured


def test_stage_names_match_the_stages_the_checks_define():
    from checks.bench.stages import STAGES as CHECK_STAGES

    assert set(MODEL_STAGES) == set(CHECK_STAGES)
    assert STAGES[0] == "grade"


@pytest.mark.slow
def test_a_failing_stage_makes_bench_exit_1_and_says_why(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the mimi stage would not fail")
    assert main(["bench", "--stages", "mimi", "--device", "cuda"]) == 1
    err = capsys.readouterr().err
    assert "bench: mimi failed" in err and "sees no CUDA GPU" in err and "1 stage(s) failed: mimi" in err


def test_the_bare_scorer_bench_compares_with_agrees_with_the_grader(tmp_path, bank):
    """The naive side of the grade stage must compute the same totals, or the comparison means nothing."""
    from grader.bench import bare_scorer
    from grader.readers.formats import read_submissions
    from grader.sheet import grade_roster
    from grader.synthetic import build_class

    export, key = build_class(bank, n_students=300)
    (tmp_path / "e.csv").write_bytes(export)
    roster = read_submissions(tmp_path / "e.csv", bank)
    sheet = grade_roster(roster, bank, key)
    assert {r.student_id: r.total for r in sheet.results} == bare_scorer(export, bank, key)
    # questions under a regrade policy or not graded take the rule's own function: the same totals again
    from conftest import make_key

    from grader.key import Policy

    correct = {q: key.answer(q).correct for q in bank.ids}
    other = make_key(bank, correct=correct, pending=("q12",), policies={
        "q01": Policy(also_accept=["A"]), "q06": Policy(drop=[correct["q06"][0]]), "q03": Policy(full_credit=True)})
    sheet = grade_roster(roster, bank, other)
    assert {r.student_id: r.total for r in sheet.results} == bare_scorer(export, bank, other)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak is read from /proc (Linux)")
def test_a_stage_s_peak_memory_is_its_own_not_the_bench_s():
    """The grade stage builds its synthetic class in the bench's own process (1 GB at 100,000 students); the stage
    runs in a child whose peak must not include that memory (a child's ru_maxrss starts at its parent's)."""
    from grader.bench import _run_child

    held = b"x" * (300 << 20)  # the bench process holding a big class
    _, peak, out, _ = _run_child(["-m", "platform"])
    assert out.strip() and peak < 150, peak
    del held


def test_the_table_says_faster_for_a_naive_way_and_times_the_floor_for_a_bare_scorer():
    """A grade stage beside a bare scorer (which writes nothing) is not a speed-up: "3.0× bare" says how many times
    the floor's time ours takes, never a "0.3×" that reads as a slowdown; a naive way of the same work is "× faster"."""
    from grader.bench import BenchRow, format_table

    table = format_table([BenchRow("grade 10,000 students (new folder)", 1.2, 60.0, naive_s=0.4, floor=True),
                          BenchRow("q09: 24 orders", 2.0, 900.0, naive_s=10.0), BenchRow("disk", 0.5, float("nan"))])
    lines = table.splitlines()
    assert "3.0× bare" in lines[2] and "0.3" not in lines[2]
    assert "5.0× faster" in lines[3] and "—" in lines[4]
