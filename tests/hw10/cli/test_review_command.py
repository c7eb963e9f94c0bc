"""`hw10 review`: a key whose evidence left a claim open goes to a TA, who listens and decides; grading follows.

The key is computed by the real pipeline (run_checks → build_key, tests/review_kit.py) on q07 with a stand-in
codec that adds the same relative hiss to every clip (tests/stand_in_codec.py): both clips come back at PESQ
2.27, inside the undecided band of "reconstructed well" (2.2 ± 0.1), ESTOI 0.998. A, B and D are false by the
evidence; C ("both are reconstructed well") is open, leaning true: the question goes to review, not into the key
as a guess."""
from __future__ import annotations

from dataclasses import replace

import yaml
from conftest import SAMPLE, make_key
from review_kit import fill, review_key, review_sheet

from grader.key import dump_key, load_key
from hw10.cli import main


def test_a_claim_inside_its_band_goes_to_review_and_a_ta_closes_it(bank, tmp_path, capsys):
    key_path, evidence = review_key(bank, tmp_path)
    key = load_key(key_path, bank)
    a = key.answer("q07")
    assert a.status == "review" and a.correct == [] and a.proposed == []
    assert [c.option for c in a.open_claims] == ["C"] and "PESQ english 2.28, chinese 2.27" in a.open_claims[0].why
    assert "ESTOI english 1.00, chinese 1.00" in a.open_claims[0].why
    assert "open for a TA's review" in a.reason and key.in_review == ["q07"] and "q07" in key.pending

    # the sheet: the question, its open claim with the numbers, the decoded clips; and the decisions file
    sheet = tmp_path / "sheet"
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(sheet)]) == 0
    html = (sheet / "index.html").read_text(encoding="utf-8")
    assert "Open claim C" in html and "兩者重建效果皆佳" in html and "Both are reconstructed well" in html
    assert html.count("<audio") == 2 and "pesq.png" in html
    template = yaml.safe_load((sheet / "decisions.yaml").read_text(encoding="utf-8"))
    # every option is on the sheet: the decided ones pre-filled with the evidence's verdict, C (open) with its lean
    assert list(template["questions"]) == ["q07"] and template["open"] == []
    q = template["questions"]["q07"]
    assert list(q["claims"]) == ["A", "B", "C", "D"] and q["to_decide"] == ["C"]
    assert {k: (c["evidence_verdict"], c["verdict"]) for k, c in q["claims"].items()} == {
        "A": ("false", "false"), "B": ("false", "false"), "C": ("undecided", "true"), "D": ("false", "false")}
    # 2.27 sits inside the band but above 2.2, and ESTOI agrees: the numbers lean to "both well", pre-filled
    assert q["claims"]["C"]["verdict"] == "true" and q["claims"]["C"]["evidence_leans"] == "true"
    assert "decided by the evidence" in html and "✗ false" in html
    assert a.open_claims[0].lean == "true"
    assert "1 open claim(s)" in capsys.readouterr().out

    # the TA decides: C true (a faint hiss, every word clear), the answer follows: C
    decided = fill(sheet / "decisions.yaml", C=("true", "a faint hiss; every word clear in both languages"))
    reviewed_path = tmp_path / "reviewed.yaml"
    assert main(["review", str(key_path), "--decisions", str(decided), "--out", str(reviewed_path)]) == 0
    reviewed = load_key(reviewed_path, bank)
    r = reviewed.answer("q07")
    assert r.status == "reviewed" and r.correct == ["C"] and r.graded and not reviewed.in_review
    by = {x.option: (x.verdict, x.decided_by) for x in r.review}
    assert by == {"A": ("false", "evidence"), "B": ("false", "evidence"), "C": ("true", "ta"),
                  "D": ("false", "evidence")}
    ta = next(x for x in r.review if x.decided_by == "ta")
    assert ta.who == "TA Lin" and ta.note.startswith("a faint hiss") and ta.when
    assert ta.evidence_verdict == "undecided" and not ta.override and not reviewed.overrides
    assert reviewed.provenance["reviews"][0]["questions"] == ["q07"]
    assert load_key(key_path, bank).answer("q07").status == "review"  # the computed key is left as it was


def test_grading_waits_for_the_review_then_says_who_decided(bank, tmp_path, capsys):
    key_path, evidence = review_key(bank, tmp_path)
    out = tmp_path / "graded"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(key_path), "--out", str(out)]) == 3  # withheld
    printed = capsys.readouterr().out
    assert "NOT GRADED (waiting for a TA's review; run `hw10 review`): q07" in printed
    assert not (out / "grades.csv").exists() and "hw10 review" in printed
    sheet = tmp_path / "sheet"
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(sheet)]) == 0
    decided = fill(sheet / "decisions.yaml", C=("true", "faint hiss"))
    reviewed = tmp_path / "reviewed.yaml"
    assert main(["review", str(key_path), "--decisions", str(decided), "--out", str(reviewed)]) == 0
    out2 = tmp_path / "graded2"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(reviewed), "--out", str(out2)]) == 0
    printed = capsys.readouterr().out
    assert "reviewed by a TA: q07" in printed and (out2 / "grades.csv").exists()
    assert "reviewed by a TA" in (out2 / "report.html").read_text(encoding="utf-8")
    page = next((out2 / "feedback").glob("*.html")).read_text(encoding="utf-8")
    assert "reviewed by a TA" in page


def bad_decisions(tmp_path, bank):
    key_path, evidence, sheet = review_sheet(bank, tmp_path)
    return key_path, sheet / "decisions.yaml"


def test_bad_decisions_are_refused_naming_the_entry_and_nothing_is_written(bank, tmp_path, capsys):
    key_path, template = bad_decisions(tmp_path, bank)
    out = tmp_path / "reviewed.yaml"

    def refused(decisions, message):
        capsys.readouterr()
        assert main(["review", str(key_path), "--decisions", str(decisions), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and str(decisions) in err, err
        assert not out.exists()

    refused(fill(template, C=("", "")), "questions.q07.claims.C.verdict")  # left undecided
    refused(fill(template, C=("false", "")), "goes against the evidence's lean (true) needs a note")
    refused(fill(template, reviewer="", C=("true", "hiss")), "reviewer is empty")
    refused(fill(template, C=("maybe", "hiss")), "verdict must be true or false")
    refused(fill(template, C=("true", "hiss"), A=("true", "")), "overrides the evidence's verdict (false) needs a "
                                                                 "note")
    refused(fill(template, C=("true", "hiss"), E=("true", "?")), "q07 has no option E")
    refused(fill(template, C=("true", "hiss"), A=("true", "louder in A")), "q07 is single-answer but A, C come out")
    refused(fill(template, C=("false", "hiss drowns the words")), "q07: no option comes out true")
    other = yaml.safe_load(fill(template, C=("true", "hiss")).read_text(encoding="utf-8"))
    other["key_sha256"] = "0" * 64
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    refused(tmp_path / "other.yaml", "written for another key")
    data = yaml.safe_load(fill(template, C=("true", "hiss")).read_text(encoding="utf-8"))
    data["questions"]["q09"] = {"claims": {"A": {"verdict": "true", "note": "x"}}}
    (tmp_path / "extra.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    refused(tmp_path / "extra.yaml", "q09 is not in review in this key and not opened (to override a verdict of "
                                     "q09, open it")
    data["open"] = ["q13"]
    (tmp_path / "open13.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    refused(tmp_path / "open13.yaml", "'q13' is not a question of this key")
    (tmp_path / "broken.yaml").write_text("format: hw10-review/1\nquestions: [unclosed\n", encoding="utf-8")
    refused(tmp_path / "broken.yaml", "malformed YAML")
    assert main(["review", str(key_path), "--decisions", str(fill(template, C=("true", "hiss"))),
                 "--out", str(key_path)]) == 2  # never over the computed key
    # never over any file: the decisions file itself, an export, a spec, a link planted where the key would go
    decided = fill(template, C=("true", "hiss"))
    export = tmp_path / "export.csv"
    export.write_text("id\n1\n", encoding="utf-8")
    (tmp_path / "elsewhere.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "planted.yaml").symlink_to(tmp_path / "elsewhere.txt")
    for target in (decided, export, tmp_path / "planted.yaml"):
        before = target.read_bytes()
        capsys.readouterr()
        assert main(["review", str(key_path), "--decisions", str(decided), "--out", str(target)]) == 2
        assert "already exists" in capsys.readouterr().err and target.read_bytes() == before
    assert (tmp_path / "elsewhere.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in tmp_path.iterdir() if ".hw10-" in p.name]  # no temporary file left behind


def test_a_key_with_nothing_in_review_says_so(bank, tmp_path, capsys):
    path = tmp_path / "key.yaml"
    path.write_text(dump_key(make_key(bank)), encoding="utf-8")
    assert main(["review", str(path), "--out", str(tmp_path / "sheet")]) == 0
    assert "0 question(s) in review (none)" in capsys.readouterr().out
    assert "Nothing to review" in (tmp_path / "sheet" / "index.html").read_text(encoding="utf-8")


def test_verify_lists_a_ta_verdict_that_the_evidence_decided_otherwise(bank, tmp_path, capsys):
    key_path, evidence, sheet = review_sheet(bank, tmp_path)
    reviewed = tmp_path / "reviewed.yaml"
    assert main(["review", str(key_path), "--decisions", str(fill(sheet / "decisions.yaml", C=("true", "hiss"))),
                 "--out", str(reviewed)]) == 0
    # a later computation (say, on another GPU) whose evidence decided C false
    later = load_key(key_path, bank)
    ev = dict(later.answers["q07"].evidence)
    ev["verdicts"] = {**ev["verdicts"], "C": {"verdict": "false", "why": "PESQ english 2.05 < 2.2 − 0.1"}}
    later.answers["q07"] = replace(later.answers["q07"], evidence=ev)
    computed = tmp_path / "later.yaml"
    computed.write_text(dump_key(later), encoding="utf-8")
    capsys.readouterr()
    assert main(["verify", "--key", str(reviewed), "--against", str(computed)]) == 1
    out = capsys.readouterr().out
    assert "q07" in out and "TA verdicts contradicting the evidence: C: TA true (TA Lin, " in out
    assert ": hiss), evidence false" in out


def test_a_filled_decisions_file_is_never_overwritten_by_a_new_sheet(bank, tmp_path, capsys):
    key_path, evidence = review_key(bank, tmp_path)
    sheet = tmp_path / "sheet"
    args = ["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(sheet)]
    assert main(args) == 0 and main(args) == 0  # an untouched sheet is simply written again
    filled = (sheet / "decisions.yaml").read_text(encoding="utf-8").replace("reviewer: ''", "reviewer: TA Lin")
    (sheet / "decisions.yaml").write_text(filled, encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 2
    assert "differ from a fresh sheet" in capsys.readouterr().err
    assert (sheet / "decisions.yaml").read_text(encoding="utf-8") == filled


def test_agreeing_with_the_evidences_lean_needs_no_note(bank, tmp_path):
    key_path, evidence, sheet = review_sheet(bank, tmp_path)
    reviewed = tmp_path / "reviewed.yaml"
    assert main(["review", str(key_path), "--decisions", str(fill(sheet / "decisions.yaml", C=("true", ""))),
                 "--out", str(reviewed)]) == 0
    r = load_key(reviewed, bank).answer("q07")
    assert r.correct == ["C"] and next(x for x in r.review if x.option == "C").note.startswith("agrees with the")


def test_measures_that_disagree_open_both_claims_with_no_lean(bank, tmp_path, capsys):
    """Louder hiss: PESQ 1.71 calls both clips nearly "not effective", ESTOI 0.99 says every word survives. The two
    measures disagree, so B and C are both open with no lean: nothing is pre-filled, and each verdict needs the TA's
    note on what they heard."""
    key_path, evidence = review_key(bank, tmp_path, hiss=0.05)
    a = load_key(key_path, bank).answer("q07")
    assert [(c.option, c.lean) for c in a.open_claims] == [("B", None), ("C", None)]
    assert all("the measures disagree" in c.why for c in a.open_claims)
    sheet = tmp_path / "sheet"
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(sheet)]) == 0
    claims = yaml.safe_load((sheet / "decisions.yaml").read_text(encoding="utf-8"))["questions"]["q07"]["claims"]
    assert {k: (c["verdict"], c["evidence_leans"]) for k, c in claims.items()} == {
        "A": ("false", "false"), "B": ("", "no way"), "C": ("", "no way"), "D": ("false", "false")}
    out = tmp_path / "reviewed.yaml"
    capsys.readouterr()
    assert main(["review", str(key_path), "--decisions", str(fill(sheet / "decisions.yaml", B=("false", ""),
                                                                 C=("true", "hiss, words clear"))),
                 "--out", str(out)]) == 2
    assert "has no lean of the evidence" in capsys.readouterr().err and not out.exists()
    assert main(["review", str(key_path), "--decisions", str(fill(sheet / "decisions.yaml", B=("false", "words clear"),
                                                                 C=("true", "hiss, words clear"))),
                 "--out", str(out)]) == 0
    assert load_key(out, bank).answer("q07").correct == ["C"]


def test_a_folder_hw10_did_not_fill_is_never_emptied(bank, tmp_path, capsys):
    key_path, evidence = review_key(bank, tmp_path)
    mine = tmp_path / "mine"
    (mine / "media").mkdir(parents=True)
    (mine / "media" / "holiday.wav").write_bytes(b"RIFF")
    capsys.readouterr()
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--out", str(mine)]) == 2
    assert "did not write" in capsys.readouterr().err and (mine / "media" / "holiday.wav").exists()



def test_a_ta_opens_a_computed_question_and_overrides_a_verdict_with_a_note(bank, tmp_path, capsys):
    """The audit's remedy: a verdict the evidence decided can be wrong (q07 A "false" here), and the TA who hears so
    opens the question (`--open q07` on the reviewed key), overrides the verdict with a note; the reviewed key says
    decided_by: ta beside the evidence's verdict, and verify and the class report list the override."""
    key_path, evidence, sheet = review_sheet(bank, tmp_path)
    first = tmp_path / "first.yaml"
    assert main(["review", str(key_path), "--decisions", str(fill(sheet / "decisions.yaml", C=("true", "hiss"))),
                 "--out", str(first)]) == 0
    # open the reviewed q07 again: every option pre-filled with its current verdict, the earlier note kept
    sheet2 = tmp_path / "sheet2"
    capsys.readouterr()
    assert main(["review", str(first), "--open", "q7", "--evidence-dir", str(evidence), "--out", str(sheet2)]) == 0
    assert "opened by you: q07" in capsys.readouterr().out
    template = yaml.safe_load((sheet2 / "decisions.yaml").read_text(encoding="utf-8"))
    assert template["open"] == ["q07"] and template["questions"]["q07"]["claims"]["C"]["note"] == "hiss"
    assert "opened by you" in (sheet2 / "index.html").read_text(encoding="utf-8")
    # an override without a note is refused, nothing written
    out = tmp_path / "second.yaml"
    capsys.readouterr()
    assert main(["review", str(first), "--decisions", str(fill(sheet2 / "decisions.yaml", A=("true", ""),
                                                              C=("false", "hiss"))), "--out", str(out)]) == 2
    assert "overrides the evidence's verdict (false) needs a note" in capsys.readouterr().err and not out.exists()
    decided = fill(sheet2 / "decisions.yaml", A=("true", "the Chinese clip is clearly better: hiss only in English"),
                   C=("false", "hiss"))
    assert main(["review", str(first), "--decisions", str(decided), "--out", str(out)]) == 0
    assert "overrides of the evidence: q07 A false → true" in capsys.readouterr().out
    reviewed = load_key(out, bank)
    a = reviewed.answer("q07")
    assert a.status == "reviewed" and a.correct == ["A"]
    over = {r.option: r for r in a.overrides}
    assert list(over) == ["A"] and over["A"].decided_by == "ta" and over["A"].evidence_verdict == "false"
    assert over["A"].note.startswith("the Chinese clip") and over["A"].who == "TA Lin"
    # verify lists the override (decided knowingly: not a disagreement), the class report too
    assert main(["verify", "--key", str(out), "--against", str(key_path)]) == 0
    printed = capsys.readouterr().out
    assert "TA overrides of the evidence" in printed and "A: TA true (TA Lin" in printed
    graded = tmp_path / "graded"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(out), "--out", str(graded)]) == 0
    assert "TA overrides of the evidence (see report.html): q07 A false → true" in capsys.readouterr().out
    report = (graded / "report.html").read_text(encoding="utf-8")
    assert "A TA overrode the evidence" in report and "q07 A: TA true over the evidence" in report


def test_opening_what_cannot_be_reviewed_is_refused_and_nothing_written(bank, tmp_path, capsys):
    key_path, evidence = review_key(bank, tmp_path)
    pending = tmp_path / "pending.yaml"
    pending.write_text(dump_key(make_key(bank, pending=("q05",))), encoding="utf-8")
    for key, q, message in ((key_path, "q13", "'q13' is not a question of this key"),
                            (key_path, "q5", "q05 is asserted (typed in by a TA) and has no evidence to review"),
                            (pending, "q05", "q05 is pending in this key")):
        sheet = tmp_path / f"sheet-{q}"
        capsys.readouterr()
        assert main(["review", str(key), "--open", q, "--evidence-dir", str(evidence), "--out", str(sheet)]) == 2
        err = capsys.readouterr().err
        assert message in err and "--open" in err and not sheet.exists()
