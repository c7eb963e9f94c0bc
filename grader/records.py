"""Validated records: the dataclasses hw10 reads from YAML and JSON (question specs, answer keys).

A record is a dataclass that subclasses :class:`Record`; its field annotations are its schema, checked whenever
one is built, in code or from data:

* ``str``, ``bool``, ``Any``, ``Literal["a", "b"]``, ``X | None``, ``list[X]``, ``dict[str, X]`` and records;
* per field, ``metadata={"pattern": ..., "min_length": n, "before": f}``: a pattern matches the whole text, a
  minimum length applies to a text or a list, ``before`` turns the loaded value into the field's (data only);
* the record's own rules in :meth:`Record.validate` (after its fields), raising :class:`RecordError`.

:meth:`Record.parse` builds one from loaded data: mappings become the nested records, a name the record does not
declare is refused (or kept in its ``extra`` mapping where the class sets ``EXTRA = True``; such a name must be
text and not ``extra`` nor start with ``_``); the first offending value raises :class:`RecordError` with its path
(``("options", 1, "text_en")``). Types are strict: a number is not text, ``"yes"`` or ``1`` is not a boolean, a
set is not a list (a tuple given in code is). A record holds its own lists and mappings (copies of those it was
given). :meth:`Record.as_dict` gives it back as plain data, what JSON can hold (as pydantic's JSON mode did).

Plain dataclasses, not pydantic: importing pydantic and building its schemas took 0.12 s, a third of the start
of every ``hw10`` command.

>>> from dataclasses import dataclass, field
>>> @dataclass(frozen=True)
... class Point(Record):
...     name: str = field(metadata={"pattern": r"[a-z]+"})
...     tags: list[str] = field(default_factory=list)
>>> Point.parse({"name": "p", "tags": ["x"]})
Point(name='p', tags=['x'])
>>> Point.parse({"name": "p", "tags": ["x", 2]})
Traceback (most recent call last):
grader.records.RecordError: tags[1]: must be text, got a number
>>> Point.parse({"name": "P1"}).name
Traceback (most recent call last):
grader.records.RecordError: name: must match [a-z]+, got 'P1'
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import fractions
import math
import pathlib
import re
import types
import typing
from typing import Any, ClassVar, Literal, Union

Loc = tuple[Union[str, int], ...]


class RecordError(ValueError):
    """A value that does not fit its record: ``loc`` is its path from the top of the data."""

    def __init__(self, loc: Loc, message: str):
        super().__init__(f"{_dotted(loc)}: {message}" if loc else message)
        self.loc = tuple(loc)
        self.message = message


def _dotted(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + str(p) for i, p in enumerate(loc))


def _kind(value: Any) -> str:
    """What a loaded value is, in words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date or time"
    return type(value).__name__


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    type: Any
    required: bool
    pattern: re.Pattern[str] | None
    min_length: int
    before: Any


class Record:
    """Base of hw10's validated dataclasses (see the module's docstring)."""

    EXTRA: ClassVar[bool] = False
    """Whether names the record does not declare are kept (in its ``extra: dict[str, Any]`` field) or refused."""

    def __post_init__(self) -> None:
        for f in _schema(type(self)):
            value = getattr(self, f.name)
            fitted = _fit(f, value, (f.name,), build=False)
            if fitted is not value:  # a list or mapping is the record's own copy (as a tuple given in code is a list)
                object.__setattr__(self, f.name, fitted)
        self.validate()

    def validate(self) -> None:
        """The record's own rules, beyond each field's type (raise :class:`RecordError`)."""

    @classmethod
    def parse(cls, data: Any, loc: Loc = ()) -> Any:
        """An instance built from loaded ``data`` (a mapping), or a :class:`RecordError` naming the first offence."""
        if not isinstance(data, dict):
            raise RecordError(loc, f"must be a mapping, got {_kind(data)}")
        schema = _schema(cls)
        names = {f.name for f in schema}
        if cls.EXTRA:
            names.discard("extra")
        unknown = [k for k in data if k not in names]
        for k in unknown:
            shown = k if isinstance(k, str) else repr(k)
            if not cls.EXTRA:
                raise RecordError(loc + (shown,), f"unknown field (allowed: {', '.join(f.name for f in schema)})")
            if not isinstance(k, str):
                raise RecordError(loc + (shown,), f"a name must be text, got {_kind(k)}")
            if k == "extra" or k.startswith("_"):
                raise RecordError(loc + (k,), "a name this record keeps for itself: call it something else")
        values: dict[str, Any] = {}
        for f in schema:
            if f.name == "extra" and cls.EXTRA:
                values["extra"] = {k: data[k] for k in unknown}
                continue
            if f.name not in data:
                if f.required:
                    raise RecordError(loc + (f.name,), "missing (required)")
                continue
            value = data[f.name]
            if f.before is not None:
                try:
                    value = f.before(value)
                except ValueError as exc:
                    raise RecordError(loc + (f.name,), str(exc)) from None
            values[f.name] = _fit(f, value, loc + (f.name,), build=True)
        try:
            return cls(**values)
        except RecordError as exc:
            raise RecordError(loc + exc.loc, exc.message) from None

    def as_dict(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """Plain data (records become mappings, tuples lists), fields in their declared order and a record's
        ``extra`` merged in after them; ``exclude_none`` leaves out fields (not values inside data) that are None."""
        out: dict[str, Any] = {}
        for f in _schema(type(self)):
            value = getattr(self, f.name)
            if f.name == "extra" and self.EXTRA:
                out.update((k, _plain(v, exclude_none)) for k, v in value.items()
                           if not (exclude_none and v is None))
            elif not (exclude_none and value is None):
                out[f.name] = _plain(value, exclude_none)
        return out


def _plain(value: Any, exclude_none: bool) -> Any:
    """``value`` as data JSON can hold (what a key's YAML is written from): records as mappings, tuples and sets as
    lists (a set sorted), mapping names as text, a float that is not finite as None, dates as ISO text, binary data,
    decimals and fractions as text (as pydantic's JSON mode wrote them before). Anything else is a TypeError: a
    check put something in its evidence that no file can hold."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, Record):
        return value.as_dict(exclude_none=exclude_none)
    if isinstance(value, dict):
        return {_name(k): _plain(v, exclude_none) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, exclude_none) for v in value]
    if isinstance(value, (set, frozenset)):
        try:
            ordered = sorted(value)
        except TypeError:
            ordered = sorted(value, key=repr)
        return [_plain(v, exclude_none) for v in ordered]
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (str, int)):  # a subclass of either (an enum's value …)
        return str(value) if isinstance(value, str) else int(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (decimal.Decimal, fractions.Fraction, pathlib.PurePath)):
        return str(value)
    raise TypeError(f"{type(value).__name__} value {value!r:.60} cannot be written as plain data")


def _name(key: Any) -> str:
    """A mapping's name as text (JSON's names are text)."""
    if isinstance(key, str):
        return str(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    plain = _plain(key, False)
    return plain if isinstance(plain, str) else str(plain)


def _schema(cls: type) -> tuple[_Field, ...]:
    """The fields of record class ``cls`` with their resolved annotations (worked out once per class)."""
    cached = cls.__dict__.get("_record_schema")
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    schema = []
    for f in dataclasses.fields(cls):
        pattern = f.metadata.get("pattern")
        schema.append(_Field(
            f.name, hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            re.compile(pattern) if pattern else None, f.metadata.get("min_length", 0), f.metadata.get("before")))
    if cls.EXTRA and "extra" not in {f.name for f in schema}:
        raise TypeError(f"{cls.__name__} keeps undeclared names but has no 'extra' field")
    schema = tuple(schema)
    setattr(cls, "_record_schema", schema)
    return schema


def _fit(f: _Field, value: Any, loc: Loc, build: bool) -> Any:
    """``value`` checked against field ``f`` (its type, pattern and minimum length)."""
    value = _typed(f.type, value, loc, build)
    if f.pattern is not None and isinstance(value, str) and not f.pattern.fullmatch(value):
        raise RecordError(loc, f"must match {f.pattern.pattern}, got {value!r}")
    if f.min_length and isinstance(value, (str, list)) and len(value) < f.min_length:
        raise RecordError(loc, "must not be empty" if f.min_length == 1 else
                          f"needs at least {f.min_length} entries, got {len(value)}")
    return value


def _typed(tp: Any, value: Any, loc: Loc, build: bool) -> Any:
    """``value`` checked against annotation ``tp``; with ``build``, mappings where a record belongs become one."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if isinstance(value, str) and value in allowed:
            return value
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise RecordError(loc, f"must be one of {', '.join(map(repr, allowed))}, got {shown}")
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _typed(inner, value, loc, build)
    if origin is list:  # a new list (the record's own), also from a tuple given in code
        if not isinstance(value, (list, tuple)):
            raise RecordError(loc, f"must be a list, got {_kind(value)}")
        (inner,) = typing.get_args(tp)
        if inner is Any:
            return list(value)
        return [_typed(inner, v, loc + (i,), build) for i, v in enumerate(value)]
    if origin is dict:  # a new mapping (the record's own)
        if not isinstance(value, dict):
            raise RecordError(loc, f"must be a mapping, got {_kind(value)}")
        _, inner = typing.get_args(tp)
        for k in value:
            if not isinstance(k, str):
                raise RecordError(loc, f"names must be text, got {_kind(k)} ({k!r})")
        if inner is Any:
            return dict(value)
        return {k: _typed(inner, v, loc + (k,), build) for k, v in value.items()}
    if tp is str:
        if isinstance(value, str):
            return value
        raise RecordError(loc, f"must be text, got {_kind(value)}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise RecordError(loc, f"must be true or false, got {_kind(value)}")
    if isinstance(tp, type) and issubclass(tp, Record):
        if isinstance(value, tp):
            return value
        if build:
            return tp.parse(value, loc)
        raise RecordError(loc, f"must be a {tp.__name__}, got {_kind(value)}")
    raise TypeError(f"records have no rule for the annotation {tp!r}")
