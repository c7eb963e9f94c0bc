"""Reading the YAML and JSON files people hand to hw10 (keys, pins, decisions, one student's answers) without letting
a hostile or broken file cost time, memory or a traceback.

* **Aliases, but bounded.** ``&a`` / ``*a`` lets 400 bytes expand to gigabytes (the "billion laughs"). hw10
  writes no aliases (:func:`dump_yaml`), but a key written by an older version may hold a few, so they are
  read, and the document is refused when, with every alias expanded, it would hold more than
  :data:`MAX_EXPANDED_NODES` values or nest deeper than :data:`MAX_DEPTH` (measured on the composed graph, each
  node once: linear time, before anything is built from it).
* **Bounded depth.** Nesting deeper than :data:`MAX_DEPTH` levels is refused (no hw10 file goes beyond ~10; a
  5,000-deep file would otherwise end in ``RecursionError``).
* **Parsed by libyaml** where PyYAML has it (:class:`CStrictLoader`, ~15× faster), else in Python
  (:class:`StrictLoader`): the same rules either way, and for the refusals above the same messages (tested); other
  syntax errors are worded by each parser its own way.
* **No duplicate keys.** ``q01: A`` then ``q01: B`` is not "the last one wins": it is refused, naming both lines
  (JSON: naming the key; the JSON decoder gives no positions).
* **Bounded size.** A file over :data:`MAX_BYTES` is refused before it is read.

Every refusal is an :class:`grader.errors.InputError` with the file and line (exit 2).

>>> load_yaml("a: &x [1]\\nb: *x\\n", "k.yaml")
{'a': [1], 'b': [1]}
>>> bomb = "a: &a [x, x, x, x, x, x, x, x, x]\\n" + "".join(
...     f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\\n" for i in range(9))
>>> load_yaml(bomb, "k.yaml")
Traceback (most recent call last):
...
grader.errors.InputError: k.yaml: malformed YAML: with its aliases expanded it holds more than 1,000,000 values
>>> load_yaml("q01: A\\nq01: B\\n", "s.yaml")
Traceback (most recent call last):
...
grader.errors.InputError: s.yaml, row 2: malformed YAML: duplicate key 'q01' (first on line 1)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from .errors import InputError

MAX_DEPTH = 64
"""Nesting levels accepted in a YAML/JSON input."""
MAX_EXPANDED_NODES = 1_000_000
"""Values a YAML document may hold once its aliases are expanded (a key with all its evidence holds ~10,000)."""
MAX_BYTES = 64 * 1024 * 1024
"""Largest YAML/JSON input read (a key with all its evidence is well under 1 MB)."""


class _NoDuplicateKeys:
    """Constructs mappings whose keys are all different (a loader's mix-in)."""

    def construct_mapping(self, node, deep=False):
        """A mapping whose keys are all different (a repeated key names both lines)."""
        seen: dict[Any, yaml.Node] = {}
        for knode, _ in node.value:
            key = self.construct_object(knode, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the safe loader's own error says so
                continue
            if first is not None:
                raise ConstructorError(None, None, f"duplicate key {key!r} (first on line {first.start_mark.line + 1})",
                                       knode.start_mark)
            seen[key] = knode
        return super().construct_mapping(node, deep)


class StrictLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """PyYAML's safe loader without duplicate keys, deep nesting or alias bombs (module docstring), all in Python:
    depth is refused where it stands, as the document is composed."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_document(self):
        """The document's node graph, refused when its aliases would expand it beyond the limits."""
        node = super().compose_document()
        check_expansion(node)
        return node

    def compose_node(self, parent, index):
        """Refuse nesting beyond :data:`MAX_DEPTH` where it stands."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:
    class CStrictLoader(_NoDuplicateKeys, yaml.CSafeLoader):
        """The same rules with libyaml's parser, ~15× faster (the 44 KB question bank, read by every command: 5 ms
        instead of 75): libyaml refuses nesting beyond 1,000 levels itself, and the composed document is checked
        whole (:func:`check_expansion`, depth included) before anything is built from it."""

        def get_single_node(self):
            node = super().get_single_node()
            check_expansion(node)
            return node

    FAST_LOADER: type = CStrictLoader
else:  # a PyYAML built without libyaml
    FAST_LOADER = StrictLoader


def check_expansion(root: yaml.Node | None) -> None:
    """Refuse a composed document that, with its aliases expanded, holds more than :data:`MAX_EXPANDED_NODES` values
    or nests deeper than :data:`MAX_DEPTH`. Each distinct node is visited once (its expanded size and depth are
    kept), so a bomb costs the size of its text, not of its expansion."""
    if root is None:
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, yaml.MappingNode):
            kids = [k for pair in node.value for k in pair]
        else:
            kids = list(node.value) if isinstance(node, yaml.SequenceNode) else []
        if not done:
            if id(node) in depth:  # met again before it was finished: it contains itself (&a [*a])
                raise ComposerError(None, None, "a value that contains itself", node.start_mark)
            depth[id(node)] = -1
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            continue
        size[id(node)] = min(1 + sum(size[id(k)] for k in kids), MAX_EXPANDED_NODES + 1)
        depth[id(node)] = 1 + max((depth[id(k)] for k in kids), default=0)
        if size[id(node)] > MAX_EXPANDED_NODES:
            raise ComposerError(None, None, f"with its aliases expanded it holds more than {MAX_EXPANDED_NODES:,} "
                                            "values", None)
        if depth[id(node)] > MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels (with its aliases expanded)",
                                node.start_mark)


def load_yaml(text: str, file: str, *, loader: type | None = None) -> Any:
    """``text`` parsed by ``loader`` (default :data:`FAST_LOADER`: with libyaml where PyYAML has it, else
    :class:`StrictLoader`); every problem an :class:`InputError` naming ``file`` and the line."""
    try:
        return yaml.load(text, Loader=loader or FAST_LOADER)  # noqa: S506 - both are safe loaders
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = exc.problem
        if problem == "exceeded maximum nesting depth":  # libyaml's own limit (1,000 levels), said as ours
            problem = f"nested deeper than {MAX_DEPTH} levels"
        raise InputError(f"malformed YAML: {problem}", file=file, row=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", file=file) from None
    except RecursionError:
        raise InputError(f"malformed YAML: nested deeper than {MAX_DEPTH} levels", file=file) from None
    except (ValueError, OverflowError, UnicodeEncodeError) as exc:  # a value the safe constructors cannot build
        # (a date 2001-13-45, an integer of more than 4,300 digits) or text no parser takes (a lone surrogate)
        raise unreadable_value("YAML", exc, file) from None


def unreadable_value(kind: str, exc: Exception, file: str) -> InputError:
    """The error for a ``kind`` (YAML, JSON) document with a value no safe constructor builds (a date 2001-13-45, a
    number of more than 4,300 digits), for every reader that builds such documents itself."""
    return InputError(f"malformed {kind}: a value cannot be read ({str(exc)[:120]})", file=file)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


class _Duplicate(ValueError):
    pass


def load_json(text: str, file: str) -> Any:
    """``text`` as JSON without duplicate keys or nesting beyond :data:`MAX_DEPTH`; problems are InputErrors."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", file=file, row=exc.lineno) from None
    except _Duplicate as exc:
        raise InputError(f"malformed JSON: duplicate key {exc.args[0]!r}", file=file) from None
    except RecursionError:
        raise InputError(f"malformed JSON: nested deeper than {MAX_DEPTH} levels", file=file) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise unreadable_value("JSON", exc, file) from None
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"malformed JSON: nested deeper than {MAX_DEPTH} levels", file=file)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return data


def check_size(path: Path) -> None:
    """Refuse a file larger than :data:`MAX_BYTES` before reading it."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return  # the read that follows names the problem
    if size > MAX_BYTES:
        raise InputError(f"is {size / 1e6:.0f} MB; hw10 reads YAML/JSON files up to {MAX_BYTES // 2**20} MB",
                         file=str(path))


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # noqa: D102 - every value written out in full, so StrictLoader reads it back
        return True


def dump_yaml(data: Any, **kwargs: Any) -> str:
    """``yaml.safe_dump`` that never writes an alias (a value used twice is written twice), so that every file
    hw10 writes is one :func:`load_yaml` reads back."""
    return yaml.dump(data, Dumper=_NoAliasDumper, **kwargs)
