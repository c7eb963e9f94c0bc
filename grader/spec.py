"""Question specs (``questions/qNN.yaml``): the schema, loading, validation and the bank hash."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from questions import bank_dir

from .errors import InputError
from .records import Record, RecordError
from .safeyaml import check_size, load_yaml

OPTION_LETTERS = "ABCDEFGHIJ"
COURSE_TOTAL = Fraction(10)
_TEXT = {"min_length": 1}


@dataclass(frozen=True, kw_only=True)
class Claim(Record):
    """For multi-answer questions every option is a claim decided on its own."""

    EXTRA = True
    decided_by: Literal["fact", "measurement"]
    """``fact``: decided by a cited source; ``measurement``: decided by the check's numbers."""
    rule: str = field(metadata=_TEXT)
    """The decision rule in words, naming the thresholds it uses."""
    source: str | None = None
    """Citation for a fact claim."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The check's own parameters of the claim (``complement``, ``test``, ``splits`` …), also read as attributes."""

    def validate(self) -> None:
        if self.decided_by == "fact" and not self.source:
            raise RecordError(("source",), "a claim decided_by 'fact' needs a 'source'")

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("extra")
        if extra is not None and name in extra and not name.startswith("_"):
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@dataclass(frozen=True, kw_only=True)
class Option(Record):
    id: str = field(metadata={"pattern": r"[A-J]"})
    """Letter, in the seed's order."""
    text: str = field(metadata=_TEXT)
    """Verbatim (Traditional Chinese) option text from the homework."""
    text_en: str = field(metadata=_TEXT)
    """English translation."""
    value: Any = None
    """Machine-readable meaning of the option, matched by the check (shapes, numbers, labels)."""
    claim: Claim | None = None
    """The rule deciding this option (multi-answer questions)."""


@dataclass(frozen=True, kw_only=True)
class CheckRef(Record):
    module: str = field(metadata={"pattern": r"checks(\.[a-z0-9_]+)+"})
    """Python module computing the evidence."""
    level: Literal["structural", "model"]
    """``structural``: answerable from the architecture alone; ``model``: needs trained weights."""
    assets: list[str] = field(default_factory=list)
    """Files from the assets folder the check needs."""
    models: list[str] = field(default_factory=list)
    """Models the check needs (mimi, csm, asr, speaker)."""


def _points_decimal(v: Any) -> str:
    """Points as the spec writes them (a number or a decimal string) kept as a decimal string; a ValueError unless a
    positive decimal of at most four digits before the point and six after (``1e999999999`` would take forever to
    make exact)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError("points must be a number such as 0.8")
    if not _POINTS.fullmatch(str(v)):
        raise ValueError(f"points {str(v)[:40]!r} is not a decimal number such as 0.8 (at most 9999.999999)")
    if Fraction(str(v)) <= 0:
        raise ValueError("points must be positive")
    return str(v)


_POINTS = re.compile(r"[0-9]{1,4}(\.[0-9]{1,6})?")


@dataclass(frozen=True, kw_only=True)
class QuestionSpec(Record):
    id: str = field(metadata={"pattern": r"q\d\d"})
    title: str = field(metadata=_TEXT)
    kind: Literal["single", "multi"]
    points: str = field(metadata={"before": _points_decimal})
    """Points as a decimal string (``"0.8"``); use :attr:`points_exact` for arithmetic."""
    stem: str = field(metadata=_TEXT)
    stem_en: str = field(metadata=_TEXT)
    options: list[Option] = field(metadata={"min_length": 2})
    check: CheckRef
    thresholds: dict[str, Any] = field(default_factory=dict)
    """Every number a decision uses."""
    threshold_sources: dict[str, str] = field(default_factory=dict)
    """Where a threshold's value comes from (its anchor: the slides, a chance level, a measurement), by name."""

    def validate(self) -> None:
        try:
            _points_decimal(self.points)
        except ValueError as exc:
            raise RecordError(("points",), str(exc)) from None
        letters = [o.id for o in self.options]
        expected = list(OPTION_LETTERS[: len(letters)])
        if letters != expected:
            raise RecordError(("options",), f"option ids must be {', '.join(expected)} in order, got "
                              f"{', '.join(letters)}")
        if self.kind == "multi":
            missing = [o.id for o in self.options if o.claim is None]
            if missing:
                raise RecordError(("options",), f"multi-answer question: options {', '.join(missing)} need a "
                                  "'claim'")
        unknown = sorted(set(self.threshold_sources) - set(self.thresholds))
        if unknown:
            raise RecordError(("threshold_sources",), f"names no threshold: {', '.join(unknown)}")

    @cached_property
    def points_exact(self) -> Fraction:
        return Fraction(self.points)

    @cached_property
    def letters(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    def option(self, letter: str) -> Option:
        for o in self.options:
            if o.id == letter:
                return o
        raise KeyError(f"{self.id} has no option {letter}")

    def gradable_content(self) -> dict[str, Any]:
        """What grading depends on; hashed into ``questions_sha256``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "points": str(self.points_exact),
            "stem": self.stem,
            "options": [[o.id, o.text] for o in self.options],
        }


class QuestionBank:
    """The validated set of question specs, ordered q01, q02, …"""

    def __init__(self, specs: list[QuestionSpec], source: str):
        self.specs = sorted(specs, key=lambda s: s.id)
        self.source = source
        self._by_id = {s.id: s for s in self.specs}

    def __iter__(self):
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, qid: str) -> QuestionSpec:
        return self._by_id[qid]

    def __contains__(self, qid: object) -> bool:
        return qid in self._by_id

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.specs]

    @property
    def total_points(self) -> Fraction:
        return sum((s.points_exact for s in self.specs), Fraction(0))

    def sha256(self) -> str:
        """Hash of the gradable content (ids, kinds, points, stems, option letters and texts).

        Translations, thresholds and check metadata are not part of it: editing them does not
        invalidate keys (thresholds are recorded in a computed key's provenance instead)."""
        payload = json.dumps([s.gradable_content() for s in self.specs], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def thresholds_sha256(self) -> str:
        payload = json.dumps({s.id: s.thresholds for s in self.specs}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _fmt_loc(loc: tuple[Any, ...], data: Any) -> str:
    """Dotted field path; option indices shown with the option's letter when known."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict) and "id" in node[item]:
                label = f"[{item}] (option {node[item]['id']})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def read_utf8(path: Path) -> str:
    """A small text file (YAML, JSON, answers) as UTF-8 (a BOM is dropped); every failure an InputError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None


def load_yaml_file(path: Path) -> Any:
    """Read YAML with :func:`grader.safeyaml.load_yaml` (no aliases, no duplicate keys, bounded depth and size);
    every problem names the file and line."""
    check_size(path)
    return load_yaml(read_utf8(path), str(path))


def parse_spec(data: Any, path: Path) -> QuestionSpec:
    """A :class:`QuestionSpec` from the loaded YAML of ``path``: it must be a mapping that passes validation and whose
    ``id`` equals the file name, else an :class:`InputError` naming the file and the offending field."""
    if not isinstance(data, dict):
        raise InputError("a question spec must be a YAML mapping", file=str(path))
    try:
        spec = QuestionSpec.parse(data)
    except RecordError as exc:
        raise InputError(exc.message, file=str(path), column=_fmt_loc(exc.loc, data) or "(top level)") from None
    if path.stem != spec.id:
        raise InputError(f"file name {path.name!r} does not match id {spec.id!r}", file=str(path), column="id")
    return spec


def load_bank(folder: Path | str | None = None) -> QuestionBank:
    """Load and validate every ``q*.yaml`` in ``folder`` (default: the installed bank)."""
    if folder is None:
        folder = bank_dir()
    folder = Path(folder)
    files = sorted(folder.glob("q*.yaml"))
    if not files:
        raise InputError("no question specs (q*.yaml) found", file=str(folder))
    specs = [parse_spec(load_yaml_file(p), p) for p in files]
    bank = QuestionBank(specs, source=str(folder))
    if bank.total_points != COURSE_TOTAL:
        raise InputError(
            f"points add up to {float(bank.total_points):g}, the course's total is {COURSE_TOTAL}",
            file=str(folder), column="points")
    return bank
