"""A verb's options declared once (otter-grader's rule: defaults declared once): each is a field of the verb's
options dataclass carrying its :class:`Flag`, and the command line's arguments (:func:`add_options`), the values a
parsed command line gives (:func:`from_args`) and the field names an error names all derive from it. The key run's
options (:class:`checks.pipeline.options.KeyRunOptions`) and ``hw10 grade``'s (:class:`hw10.grade.GradeOptions`)
are declared this way.

Nothing here imports beyond the standard library.
"""
from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable

__all__ = ["Flag", "add_options", "flags", "from_args", "option", "positive_int"]


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


@dataclass(frozen=True)
class Flag:
    """How one option appears on the command line and where else it counts."""

    name: str
    """The flag, e.g. ``--mimi``; a name without dashes (``export``) is a positional argument."""
    help: str
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    """Turns the command line's text into the field's value (e.g. ``Path``, ``int``)."""
    choices: tuple[str, ...] | None = None
    switch: bool = False
    """A flag without a value (``store_true``)."""
    required: bool = False
    """A flag the command line must give (a field without a default is one)."""
    parser: bool = True
    """Added by :func:`add_options` (``hw10 key``'s ``--out`` is added by the verb itself, with its own default)."""
    recorded: bool = True
    """Part of the command line written into a key's provenance."""
    identity: tuple[tuple[str, str], ...] = ()
    """``(model, key)`` pairs: this option is part of that model's identity (provenance, cache key)."""
    keyword: str | None = None
    """The notebook self-check's keyword argument for it, when not the field's name."""


def option(default: Any, flag: Flag) -> Any:
    """A dataclass field holding an option: its ``default`` (``MISSING``: none, the command line must give it) and
    its :class:`Flag`."""
    if default is MISSING:
        return field(metadata={"flag": flag})
    return field(default=default, metadata={"flag": flag})


def flags(cls: type) -> list[tuple[str, Flag]]:
    """``(field name, flag)`` of every option of the options dataclass ``cls``, in declaration order."""
    return [(f.name, f.metadata["flag"]) for f in fields(cls) if "flag" in f.metadata]


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add every option of ``cls`` (whose flag says ``parser``) to ``parser``, with the field's default."""
    defaults = {f.name: f.default for f in fields(cls)}
    for name, flag in flags(cls):
        if not flag.parser:
            continue
        if flag.switch:
            parser.add_argument(flag.name, dest=name, action="store_true", help=flag.help)
            continue
        positional = not flag.name.startswith("-")
        kw: dict[str, Any] = {"help": flag.help}
        if not positional:
            kw["dest"] = name
            if defaults[name] is MISSING or flag.required:
                kw["required"] = True
            else:
                kw["default"] = defaults[name]
        for attr in ("metavar", "type", "choices"):
            if getattr(flag, attr) is not None:
                kw[attr] = getattr(flag, attr)
        parser.add_argument(flag.name if not positional else name, **kw)


def from_args(cls: type, args: Any, **overrides: Any) -> Any:
    """The ``cls`` options an argparse namespace (or any object) carries, with ``overrides``."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)
