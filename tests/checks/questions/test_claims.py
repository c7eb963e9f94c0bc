"""Complementary claims (``claim.complement`` in a spec) are decided together."""
from dataclasses import replace

import pytest

from checks.evidence import OptionVerdict, SpecError
from checks.questions.claims import complement_pairs, complementary
from grader.spec import load_bank


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def test_the_specs_declare_their_complementary_claims(bank):
    assert complement_pairs(bank["q06"]) == [("C", "D")]  # higher vs lower layer separates better
    assert complement_pairs(bank["q10"]) == [("B", "C")]  # never vs still recovered without layer 0


def test_a_one_sided_complement_is_a_spec_error(bank):
    spec = bank["q06"]
    opts = [replace(o, claim=replace(o.claim, extra={**o.claim.extra, "complement": "E"})) if o.id == "C" else o
            for o in spec.options]
    with pytest.raises(SpecError, match="option C: complement 'E' must be an option whose claim names C"):
        complement_pairs(replace(spec, options=opts))


@pytest.mark.parametrize("a, b, want", [
    ("true", "false", ("true", "false")),
    ("false", "true", ("false", "true")),
    ("false", "false", ("undecided", "undecided")),
    ("true", "true", ("undecided", "undecided")),
    ("undecided", "false", ("undecided", "false")),
])
def test_pairs_are_one_true_one_false_or_left_open(a, b, want):
    got = complementary({"B": OptionVerdict(a, "b's numbers"), "C": OptionVerdict(b, "c's numbers"),
                         "D": OptionVerdict("false", "not in a pair")}, [("B", "C")])
    assert (got["B"].verdict, got["C"].verdict) == want and got["D"].verdict == "false"
    if want == ("undecided", "undecided"):
        assert "b's numbers" in got["B"].why and "complement C" in got["B"].why
