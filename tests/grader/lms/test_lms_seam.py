"""The LMS seam (grader/lms/base.py): NTU COOL is one implementation in its own folder, and an LMS added to the
registry is read and written through the same interface, with nothing else in hw10 naming it. The second LMS here
("toy": a one-column-per-question export and a two-column gradebook) exists in this test only."""
from __future__ import annotations

from conftest import SAMPLE

from grader.errors import InputError
from grader.lms import DEFAULT, REGISTRY, lms_named
from grader.lms.base import LMS, Column, ExportReader, Gradebook
from grader.readers.formats import FORMATS, read_submissions
from grader.submissions import Roster, Submission


class ToyExport(ExportReader):
    format = "toy"
    title = "toy LMS export"
    columns_hint = "columns 'learner' and q01 … q12"

    def recognises(self, header):
        return bool(header) and header[0] == "learner"

    def read(self, table, bank, pins):
        subs = [Submission(student_id=row[0], answers={q: tuple(cell) for q, cell in zip(table.header[1:], row[1:])},
                           row=n) for n, row in table.rows]
        return Roster(path="toy.csv", format=self.format, encoding="utf-8", submissions=subs)


class ToyGradebook(Gradebook):
    def column(self, text, *, option="--assignment"):
        if not text.isidentifier():
            raise InputError(f"{option} {text!r}: the toy LMS takes a plain identifier")
        return Column(text, text, None)

    def rows(self, sheet, column, decimals, points_possible=True):
        return [["learner", column.header]] + [[r.student_id, str(r.total)] for r in sheet.results]


TOY = LMS(name="toy", title="Toy LMS", export=ToyExport(), gradebook=ToyGradebook())


def test_ntu_cool_is_the_registered_default_and_its_export_is_read_through_the_seam(bank):
    assert DEFAULT == "ntucool" and set(REGISTRY) == {"ntucool"} and "ntucool" in FORMATS
    cool = lms_named()
    roster = read_submissions(SAMPLE / "export.csv", bank)
    assert roster.format == "ntucool" and len({s.student_id for s in roster.submissions}) == 300
    assert cool.gradebook.column("HW10 (123)").id == 123 and cool.service is not None


def test_a_second_lms_is_one_registry_row(bank, tmp_path):
    export = tmp_path / "toy.csv"
    export.write_text("learner," + ",".join(bank.ids) + "\nalice," + ",".join("B" for _ in bank.ids) + "\n",
                      encoding="utf-8")
    both = {**REGISTRY, "toy": TOY}
    roster = read_submissions(export, bank, lmses=both)
    assert roster.format == "toy" and roster.submissions[0].answers["q01"] == ("B",)
    assert read_submissions(export, bank, "toy", lmses=both).format == "toy"
    # without it registered, the same file is no known format, and the message names every registered export
    try:
        read_submissions(export, bank)
    except InputError as exc:
        assert "NTU COOL Student Analysis export" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unregistered LMS's export was read")
    assert TOY.gradebook.rows(type("S", (), {"results": []})(), TOY.gradebook.column("hw10"), 4) == [["learner",
                                                                                                       "hw10"]]


def test_an_unknown_lms_is_a_clear_error():
    try:
        lms_named("moodle")
    except InputError as exc:
        assert "unknown LMS 'moodle' (hw10 knows ntucool)" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown LMS was accepted")
