"""Comparing an official key with a computed one (the pure part of `hw10 verify`)."""
from conftest import make_key
from grader.key import Policy
from grader.verify import compare_keys


def test_agreement_disagreement_and_unverified(bank):
    official = make_key(bank, pending=("q12",), policies={"q02": Policy(also_accept=["D"])})
    computed = make_key(bank, pending=("q05",), status="computed",
                        correct={**{s.id: ["B"] for s in bank}, "q01": ["B"], "q02": ["D"], "q03": ["A"],
                                 "q06": ["A", "B", "D", "E"], "q10": ["A", "C"]})
    computed.answers["q03"].evidence = {"summary": "dim1 moves with num_quantizers", "margin": 0.5}
    computed.answers["q06"].fragile = True
    rows = {r.qid: r for r in compare_keys(bank, official, computed)}
    assert rows["q01"].outcome == "agree"
    assert rows["q02"].outcome == "agree"  # D is accepted by the official policy
    assert rows["q03"].outcome == "disagree" and rows["q03"].detail == "dim1 moves with num_quantizers (margin 0.5)"
    assert rows["q03"].official == ("B",) and rows["q03"].computed == ("A",)
    assert rows["q05"].outcome == "unverified" and "no computed answer" in rows["q05"].detail
    assert rows["q06"].outcome == "agree" and rows["q06"].fragile
    assert rows["q10"].outcome == "disagree"  # official A, C, F; computed A, C
    assert rows["q12"].outcome == "unverified"


def test_dropped_multi_option_is_ignored(bank):
    official = make_key(bank, policies={"q06": Policy(drop=["E"])})
    computed = make_key(bank, status="computed", correct={**{s.id: make_key(bank).answer(s.id).correct for s in bank},
                                                          "q06": ["A", "B", "D"]})
    rows = {r.qid: r for r in compare_keys(bank, official, computed)}
    assert rows["q06"].outcome == "agree"
