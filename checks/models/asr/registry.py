"""The ASR backends by name: :data:`ASR_BACKENDS`, one :class:`~checks.models.asr.base.BackendRow` per backend
module. Everything that knows the backends reads this table: :func:`parse_asr_spec` and :func:`load_asr` (an
unknown backend is an :class:`AsrError` listing the registered ones), the ``--asr`` option's help
(:func:`offline_specs`) and ``hw10 doctor`` (:func:`probe_asr`). A new backend is one module and one row here.
"""
from __future__ import annotations

import importlib

from checks.models.asr import faster_whisper, openai_whisper
from checks.models.asr.base import AsrBackend, AsrError, AsrOptions, AsrSpec, BackendRow
from checks.models.probe import ProbeLine, ProbeTools

ASR_BACKENDS: dict[str, BackendRow] = {row.name: row for row in (faster_whisper.ROW, openai_whisper.ROW)}
"""Backend name (before the colon of ``--asr``) → its row, in the order errors and help list them."""


def backend_names() -> tuple[str, ...]:
    """The registered backends' names."""
    return tuple(ASR_BACKENDS)


def spec_help() -> str:
    """Every registered spec form with its note, for an error that lists what ``--asr`` takes."""
    forms = [form for row in ASR_BACKENDS.values() for form in row.forms]
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def offline_specs() -> list[str]:
    """The ``--asr`` values that run without any network (``faster-whisper:tiny.en-bundled``, …)."""
    return [f"{row.name}:{model}" for row in ASR_BACKENDS.values() for model in row.offline]


def _unknown(name: str) -> str:
    return (f"unknown ASR backend {name!r}; the registered ones are {', '.join(backend_names())} "
            f"(use one of: {spec_help()})")


def backend_row(name: str) -> BackendRow:
    """The row of backend ``name``; an :class:`AsrError` naming the registered ones for any other."""
    if name not in ASR_BACKENDS:
        raise AsrError(_unknown(name))
    return ASR_BACKENDS[name]


def parse_asr_spec(spec: str) -> AsrSpec:
    """``"faster-whisper:/models/tiny.en"`` → ``AsrSpec("faster-whisper", "/models/tiny.en")``.

    Splits at the first colon only, so a model path may contain colons. A backend that is not registered is an
    :class:`AsrError` naming the registered ones."""
    backend, sep, model = str(spec).partition(":")
    backend, model = backend.strip(), model.strip()
    if sep and model and backend and backend not in ASR_BACKENDS:
        raise AsrError(f"ASR spec {spec!r}: {_unknown(backend)}")
    if not sep or backend not in ASR_BACKENDS or not model:
        raise AsrError(f"ASR spec {spec!r} not understood; use one of: {spec_help()}")
    return AsrSpec(backend, model)


def load_asr(spec: str | AsrSpec, options: AsrOptions | None = None) -> AsrBackend:
    """Load the backend a spec names (the model is loaded now, so a bad spec fails early)."""
    parsed = spec if isinstance(spec, AsrSpec) else parse_asr_spec(spec)
    return backend_row(parsed.backend).load(parsed, options or AsrOptions())


def probe_asr(spec: AsrSpec, tools: ProbeTools) -> list[ProbeLine]:
    """``hw10 doctor``'s look at ``spec``: its backend's package importable, then the backend's own probe."""
    row = backend_row(spec.backend)
    try:
        importlib.import_module(row.package)
    except ImportError:
        return [ProbeLine(f"{row.name} is not installed", True, row.install)]
    return row.probe(spec, tools)
