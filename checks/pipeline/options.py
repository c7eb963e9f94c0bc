"""The options of a key computation, declared once: every ``hw10 key`` / ``hw10 check`` / ``hw10 verify`` flag,
the keyword arguments of the notebook self-check, the command line recorded in the provenance and the model
identities the cache keys on all derive from :class:`KeyRunOptions`' fields and their :class:`Flag`.

Importing this module imports neither torch nor numpy (the CLI builds its parser from it).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.models.asr import DEFAULT_ASR, offline_specs
from checks.models.csm import CSM_DTYPES, DEFAULT_CSM
from checks.models.mimi import DEFAULT_MIMI, DTYPES, MimiSource
from checks.models.speaker import DEFAULT_SPEAKER
from grader.options import Flag, add_options, flags, from_args, option, positive_int

__all__ = ["Flag", "KeyRunOptions", "MODEL_IDENTITY", "add_run_options", "command_line", "flag_keywords",
           "positive_int", "requested_models"]


_opt = option


MODEL_IDENTITY: dict[str, tuple[str, ...]] = {
    "mimi": ("ref", "revision", "device", "dtype"),
    "asr": ("ref", "beam_size", "device"),
    "speaker": ("ref", "device"),
    "csm": ("ref", "revision", "device", "dtype", "samples", "max_new_tokens"),
}
"""Per model, the keys of its requested identity, in the order they are recorded."""

_ALL_DEVICES = (("mimi", "device"), ("asr", "device"), ("speaker", "device"), ("csm", "device"))


@dataclass
class KeyRunOptions:
    """Everything that selects models, assets and settings for one key computation (the CLI flags)."""

    select: str | None = _opt(None, Flag("--questions", "questions to compute, e.g. 1-5,9 or q01,q03 (default: all)",
                                         metavar="SPEC", keyword="questions"))
    """Questions, e.g. ``1-5,9`` (None: all)."""
    assets: str | Path | None = _opt(None, Flag("--assets", "folder with the Colab's files "
                                                "(2sAudio.wav, 4sAudio.wav, …)",
                                                metavar="DIR"))
    mimi: str = _opt(DEFAULT_MIMI, Flag(
        "--mimi", f"Mimi weights: a Hub id (default {DEFAULT_MIMI}), a local save_pretrained folder, or 'architecture' "
                  "(full-size config, seeded random weights: structural questions only)",
        metavar="ID|PATH|architecture", identity=(("mimi", "ref"),)))
    mimi_revision: str | None = _opt(None, Flag("--mimi-revision", "Hub revision (branch, tag or commit) of --mimi",
                                                metavar="REV", identity=(("mimi", "revision"),)))
    asr: str = _opt(DEFAULT_ASR, Flag(
        "--asr", f"speech recognition for q09-q11 (default {DEFAULT_ASR}, what the homework used; offline: "
                 f"{' or '.join(offline_specs())})",
        metavar="BACKEND:MODEL", identity=(("asr", "ref"),)))
    asr_beam: int = _opt(5, Flag("--asr-beam", "ASR beam size (default 5; decoding is at temperature 0)", type=int,
                                 identity=(("asr", "beam_size"),)))
    speaker: str = _opt(DEFAULT_SPEAKER, Flag(
        "--speaker", "speaker-similarity encoder for q10/q11: resemblyzer (default, offline) or wavlm[:ID|PATH]",
        metavar="ENCODER", identity=(("speaker", "ref"),)))
    csm: str = _opt(DEFAULT_CSM, Flag(
        "--csm", f"CSM for q11/q12: a Hub id (default {DEFAULT_CSM}, gated: set HF_TOKEN or `hf auth login` after "
                 "accepting its terms) or a local folder holding the model and its processor",
        metavar="ID|PATH", identity=(("csm", "ref"),)))
    csm_revision: str | None = _opt(None, Flag("--csm-revision", "Hub revision (branch, tag or commit) of --csm",
                                               metavar="REV", identity=(("csm", "revision"),)))
    csm_dtype: str = _opt("auto", Flag("--csm-dtype", "CSM dtype (default auto: bfloat16 on a GPU that runs it "
                                                      "natively, else float32)",
                                       choices=CSM_DTYPES, identity=(("csm", "dtype"),)))
    csm_max_new_tokens: int | None = _opt(None, Flag(
        "--csm-max-new-tokens", "most frames per CSM generation (12.5 per second; default: the questions' "
                                "max_new_tokens)", metavar="N", type=positive_int,
        identity=(("csm", "max_new_tokens"),)))
    samples: int | None = _opt(None, Flag("--samples", "CSM generations for q11 and q12 (different seeds; default: "
                                                       "their YAML's samples)", metavar="N", type=positive_int))
    device: str = _opt("auto", Flag("--device", "auto (cuda when available), cpu or cuda (default auto)",
                                    identity=_ALL_DEVICES))
    dtype: str = _opt("float32", Flag("--dtype", "model dtype (default float32)", choices=DTYPES,
                                      identity=(("mimi", "dtype"),)))
    seed: int = _opt(0, Flag("--seed", "seed of random weights and generated signals (default 0)", type=int))
    seeds: int | None = _opt(None, Flag(
        "--seeds", "repeat every stochastic step with N seeds (q06 UMAP fits, q11 CSM samples) and record their "
                   "agreement (default: the counts in questions/*.yaml)", metavar="N", type=positive_int))
    """Repeat every stochastic step with this many seeds (q06 UMAP fits, q11 samples); None: the YAML counts."""
    out: str | Path | None = _opt(None, Flag("--out", "the key written (hw10 key adds this flag itself)",
                                             metavar="KEY", parser=False))
    """The key file ``hw10 key`` writes: recorded in the command line only."""
    evidence_dir: str | Path | None = _opt(None, Flag(
        "--evidence-dir", "write each question's evidence (YAML) and artifacts here", metavar="DIR"))
    emovdb: str | Path | None = _opt(None, Flag("--emovdb", "EmoV-DB folder for q06 (default: ASSETS/emovdb); "
                                                            "https://www.openslr.org/115/", metavar="DIR"))
    per_class: int | None = _opt(None, Flag(
        "--per-class", "q06: EmoV-DB clips per emotion (default: thresholds.per_class in questions/q06.yaml)",
        metavar="N", type=positive_int))
    cache: str | Path | None = _opt(None, Flag(
        "--cache", "cache of computed questions (default $HW10_KEY_CACHE, else $HW10_CACHE/key, else "
                   "~/.cache/hw10/key): a rerun with the "
                   "same inputs takes seconds", metavar="DIR", recorded=False))
    no_cache: bool = _opt(False, Flag("--no-cache", "recompute everything (and store nothing)", switch=True,
                                      recorded=False))
    command: str | None = None
    """The command line to record in the provenance (None: none; ``hw10 key`` records :func:`command_line`)."""

    @property
    def mimi_source(self) -> MimiSource:
        """Where Mimi comes from and how it runs, as these options say."""
        return MimiSource(ref=self.mimi, revision=self.mimi_revision, device=self.device, dtype=self.dtype,
                          seed=self.seed)

    @property
    def csm_samples(self) -> int | None:
        """CSM generations asked for: ``--samples``, else ``--seeds``, else the spec's count (None)."""
        return self.samples or self.seeds

    @classmethod
    def from_args(cls, args: Any, **overrides: Any) -> "KeyRunOptions":
        """The options an argparse namespace (or any object) carries, with ``overrides``."""
        return from_args(cls, args, **overrides)


def _flags() -> list[tuple[str, Flag]]:
    return flags(KeyRunOptions)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add the flags that choose questions, assets, models and settings (shared by key, check and verify)."""
    add_options(parser, KeyRunOptions)


def command_line(opts: KeyRunOptions, command: str = "hw10 key") -> str:
    """The command line that reproduces ``opts`` (every recorded option that is set), for the provenance."""
    parts = [command]
    for name, flag in _flags():
        value = getattr(opts, name)
        if flag.recorded and value is not None:
            parts.append(f"{flag.name} {value}")
    return " ".join(parts)


def requested_models(opts: KeyRunOptions) -> dict[str, dict[str, Any]]:
    """Per model, its identity as requested (:data:`MODEL_IDENTITY`): what the provenance records for a model
    that did not load and what the cache keys on."""
    values: dict[tuple[str, str], Any] = {("csm", "samples"): opts.csm_samples}
    for name, flag in _flags():
        for pair in flag.identity:
            values[pair] = getattr(opts, name)
    return {model: {k: values[(model, k)] for k in keys} for model, keys in MODEL_IDENTITY.items()}


def flag_keywords() -> dict[str, str]:
    """Each flag (without ``--``) → the keyword argument of the notebook self-check that sets the same thing."""
    return {flag.name[2:]: flag.keyword or name for name, flag in _flags() if flag.parser}
