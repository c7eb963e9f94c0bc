"""Comparing an official key with a computed one (the pure part of `hw10 verify`)."""
from conftest import SAMPLE_CORRECT, make_key

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


def _pending_with_verdicts(key, qid, verdicts, reason="undecided: another option"):
    """Make ``qid`` of a computed key pending, with these decided/undecided option verdicts as evidence."""
    from grader.key import KeyAnswer

    key.answers[qid] = KeyAnswer(status="pending", reason=reason, evidence={
        "summary": "partial",
        "verdicts": {x: {"verdict": v[0], "why": v[1], **({"margin": v[2]} if len(v) > 2 else {})}
                     for x, v in verdicts.items()}})
    return key


def _computed(bank):
    return make_key(bank, status="computed")  # the sample answers, computed: everything agrees by default


def test_pending_evidence_contradicting_a_single_answer_key_disagrees(bank):
    official = make_key(bank, correct={**SAMPLE_CORRECT, "q12": ["B"]})
    computed = _pending_with_verdicts(_computed(bank), "q12", {
        "A": ("undecided", "perplexity gap within the seeds' spread"),
        "B": ("false", "codec weights are identical to the released Mimi: not post-trained"),
        "C": ("false", "decoder is used"), "D": ("false", "12.5 Hz, not 50 Hz")})
    rows = {r.qid: r for r in compare_keys(bank, official, computed)}
    r = rows["q12"]
    assert r.outcome == "disagree" and r.official == ("B",) and r.computed == ()
    assert "B is in the official answer, the evidence says false" in r.detail
    assert "codec weights are identical to the released Mimi: not post-trained" in r.detail
    assert not r.fragile
    assert all(rows[q].outcome == "agree" for q in rows if q != "q12")


def test_pending_evidence_saying_an_unlisted_option_is_true_disagrees(bank):
    # official single answer A while the evidence says B is true (and A undecided): also a contradiction
    official = make_key(bank)  # q12 = A
    computed = _pending_with_verdicts(_computed(bank), "q12", {
        "A": ("undecided", "no data"), "B": ("true", "FRAGILE: seeds straddle 0.1 (margin 0.01)"),
        "C": ("undecided", "no data"), "D": ("false", "x")})
    r = {r.qid: r for r in compare_keys(bank, official, computed)}["q12"]
    assert r.outcome == "disagree" and r.fragile
    assert "B is not in the official answer, the evidence says true: FRAGILE" in r.detail


def test_multi_answer_key_missing_an_option_the_evidence_says_is_true_disagrees(bank):
    official = make_key(bank)  # q06 = A, B, D, E
    computed = _pending_with_verdicts(_computed(bank), "q06", {
        "A": ("true", "a"), "B": ("true", "b"), "C": ("undecided", "c is borderline"), "D": ("true", "d"),
        "E": ("true", "e"), "F": ("true", "F measured 0.93 ≥ 0.9", 0.03), "G": ("false", "g"), "H": ("false", "h")})
    r = {r.qid: r for r in compare_keys(bank, official, computed)}["q06"]
    assert r.outcome == "disagree" and r.official == ("A", "B", "D", "E")
    assert r.detail.endswith("F is not in the official answer, the evidence says true: F measured 0.93 ≥ 0.9 "
                             "(margin 0.03)")  # only the contradiction is listed, not the undecided C


def test_consistent_partial_evidence_stays_unverified_and_says_what_it_confirms(bank):
    official = make_key(bank, correct={**SAMPLE_CORRECT, "q12": ["B"]})
    computed = _pending_with_verdicts(_computed(bank), "q12", {
        "A": ("false", "a"), "B": ("true", "b"), "C": ("undecided", "c"), "D": ("false", "d")},
        reason="undecided: C: needs the real CSM")
    r = {r.qid: r for r in compare_keys(bank, official, computed)}["q12"]
    assert r.outcome == "unverified" and r.computed == ()
    assert r.detail == ("the evidence confirms B true; A, D false; undecided: C "
                        "(no computed answer: undecided: C: needs the real CSM)")
    # a pending computed answer without verdicts keeps the old detail
    computed.answers["q12"].evidence = None
    r = {r.qid: r for r in compare_keys(bank, official, computed)}["q12"]
    assert r.outcome == "unverified" and r.detail == "no computed answer: undecided: C: needs the real CSM"


def test_drop_policy_removes_a_contradiction(bank):
    verdicts = {"A": ("true", "a"), "B": ("true", "b"), "C": ("false", "c"), "D": ("true", "d"),
                "E": ("false", "E measured 0.2 < 0.5"), "F": ("false", "f"), "G": ("undecided", "g"),
                "H": ("false", "h")}
    computed = _pending_with_verdicts(_computed(bank), "q06", verdicts)
    plain = {r.qid: r for r in compare_keys(bank, make_key(bank), computed)}["q06"]  # q06 = A, B, D, E
    assert plain.outcome == "disagree" and "E is in the official answer, the evidence says false" in plain.detail
    dropped = make_key(bank, policies={"q06": Policy(drop=["E"])})
    r = {r.qid: r for r in compare_keys(bank, dropped, computed)}["q06"]
    assert r.outcome == "unverified"
    assert r.detail.startswith("the evidence confirms A, B, D true; C, F, H false; undecided: G (")
    assert "E" not in r.detail.split("(")[0]  # the dropped option is neither confirmed nor undecided


def test_also_accept_and_pending_official_answers(bank):
    # single answer with also_accept: B false is fine while D (also accepted) is open; all accepted false is not
    official = make_key(bank, correct={**SAMPLE_CORRECT, "q12": ["B"]}, policies={"q12": Policy(also_accept=["D"])})
    open_d = _pending_with_verdicts(_computed(bank), "q12", {
        "A": ("false", "a"), "B": ("false", "b"), "C": ("false", "c"), "D": ("undecided", "d")})
    r = {r.qid: r for r in compare_keys(bank, official, open_d)}["q12"]
    assert r.outcome == "unverified" and "says B false, which the official key accepts" in r.detail
    all_false = _pending_with_verdicts(_computed(bank), "q12", {
        "A": ("undecided", "a"), "B": ("false", "b"), "C": ("undecided", "c"), "D": ("false", "d")})
    r = {r.qid: r for r in compare_keys(bank, official, all_false)}["q12"]
    assert r.outcome == "disagree" and "B is in" in r.detail and "D is in" in r.detail
    # an official answer that is itself pending (or full credit) is never held against the evidence
    for key in (make_key(bank, pending=("q12",)), make_key(bank, policies={"q12": Policy(full_credit=True)})):
        r = {r.qid: r for r in compare_keys(bank, key, all_false)}["q12"]
        assert r.outcome == "unverified"
