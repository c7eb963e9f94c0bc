"""Which module checks which question: the spec's ``check.module``, imported on demand.

A question whose module does not exist yet resolves to :class:`NotImplementedCheck` (the key marks it
pending, "check not implemented yet"); a module that exists but fails to import, or lacks the check
interface, is reported as such — never guessed around.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

INTERFACE = ("compute", "decide")
"""Functions every check module defines (see :mod:`checks.evidence`)."""


@dataclass(frozen=True)
class NotImplementedCheck:
    """A question whose check cannot run, and why."""

    module: str
    reason: str


def question_modules(bank) -> dict[str, str]:
    """``{qid: module name}`` for every question of the bank."""
    return {spec.id: spec.check.module for spec in bank}


def load_check(module_name: str) -> ModuleType | NotImplementedCheck:
    """The check module ``module_name`` imported, or a :class:`NotImplementedCheck` saying why not: it does not exist
    yet, fails to import, or lacks ``compute``/``decide``."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return NotImplementedCheck(module_name, f"check not implemented yet ({module_name})")
        return NotImplementedCheck(module_name, f"{module_name} cannot be imported: {exc} "
                                                "(install the model extras: pip install 'hw10[models]')")
    except Exception as exc:  # a broken module must not stop the other questions
        return NotImplementedCheck(module_name, f"{module_name} failed to import: {type(exc).__name__}: {exc}")
    missing = [f for f in INTERFACE if not callable(getattr(module, f, None))]
    if missing:
        return NotImplementedCheck(module_name, f"{module_name} lacks {', '.join(missing)}() of the check interface")
    return module


def optional_assets(module: ModuleType) -> frozenset[str]:
    """Assets the module can do without (it substitutes something and says so in its evidence)."""
    return frozenset(getattr(module, "OPTIONAL_ASSETS", frozenset()))
