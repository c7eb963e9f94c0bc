"""Did a bench key run do the real run's work? For each question, what its measurement left out.

``hw10 bench --stages key_real`` times a key run on models with random weights. Its figure is the real run's only
if every measurement ran in full: every clip encoded, decoded, scored and transcribed, every order and split
decoded, every reply generated to its frame limit and decoded by Mimi. A measurement that stops short (a PESQ that
refuses a flat decode, a reply cut at an end frame, fewer clips than the real run takes) makes the figure too low;
:func:`shortfalls` names each such place from the question's evidence, so a bench row says "ran in full" only when
it did. A gate that closes *after* the work (random weights: "not meaningful") is no shortfall: the work was done.
"""
from __future__ import annotations

from math import factorial
from typing import Callable

from checks.evidence import threshold


def _reconstruction(m, spec) -> list[str]:
    """q07/q08: every clip decoded to something, scored by PESQ; q08 also every window of its length test."""
    out = [f"{s.file}: the codec decoded all zeros" for s in m.clips if s.decoded_all_zero]
    out += [f"{s.file}: no PESQ ({s.pesq_error})" for s in m.clips if s.pesq is None]
    for c in getattr(m, "chunks", []):
        if c.pesq_alone is None or c.errors:
            out.append(f"{c.role}: the {c.chunk_seconds:g} s window test scored {c.scored} of {c.windows} windows")
    return out


def _q05(m, spec) -> list[str]:
    return ["the codebook is all zero: nothing to look up"] if m.codebook_all_zero else []


def _q06(m, spec) -> list[str]:
    real = int(threshold(spec, "per_class")) * len(m.clip_counts)
    out = [f"{m.clips} clips, the real run takes {real}"] if m.clips < real else []
    out += [f"layers {', '.join(map(str, m.layers_missing))} missing"] if m.layers_missing else []
    out += [f"codec check {c.clip}: no PESQ ({c.error})" for c in m.codec_check if c.pesq is None]
    return out


def _q09(m, spec) -> list[str]:
    orders = factorial(int(threshold(spec, "n_layers")))
    return [] if len(m.rows) == orders else [f"{len(m.rows)} of {orders} layer orders decoded"]


def _q10(m, spec) -> list[str]:
    out = [] if len(m.rows) == m.n_layers + 1 else [f"{len(m.rows)} of {m.n_layers + 1} splits decoded"]
    missing = [r.k for r in m.rows if r.sim_alice is None]
    return out + ([f"no speaker embedding for k={missing}"] if missing else [])


def _q11(m, spec) -> list[str]:
    out = [] if len(m.samples) == m.samples_requested else \
        [f"{len(m.samples)} of {m.samples_requested} replies"]
    for i, s in enumerate(m.samples):
        if s.note:
            out.append(f"reply {i}: {s.note}")
        elif s.frames < m.max_new_tokens:
            out.append(f"reply {i} ended at frame {s.frames} of {m.max_new_tokens}")
    return out


def _q12(m, spec) -> list[str]:
    out = [f"CSM's codec differs from the standalone Mimi in {m.weights_differing} of {m.weights_tensors} tensors: "
           "their decodes are not the same work"] if m.weights_differing else []
    out += [f"reply {i}: {s.note}" for i, s in enumerate(m.speech) if s.note]
    out += [f"reply {i}: the two decodes differ in length, not compared" for i, s in enumerate(m.speech)
            if not s.note and s.max_abs_diff is None]
    return out


WHOLE = frozenset({"checks.questions.q01_shapes", "checks.questions.q02_frames", "checks.questions.q03_axes",
                   "checks.questions.q04_dtype"})
"""Check modules that read shapes and dtypes of one forward pass: nothing in them can stop short."""
CHECKS: dict[str, Callable] = {
    "checks.questions.q05_codebook": _q05, "checks.questions.q06_umap": _q06,
    "checks.questions.q07_languages": _reconstruction, "checks.questions.q08_nonspeech": _reconstruction,
    "checks.questions.q09_shuffled": _q09, "checks.questions.q10_splits": _q10,
    "checks.questions.q11_conversation": _q11, "checks.questions.q12_csm_codec": _q12}
"""Check module → what its measurement must have done in full."""


def shortfalls(outcome, spec) -> list[str] | None:
    """Where ``outcome`` (a :class:`checks.pipeline.outcome.QuestionOutcome` of ``spec``'s question) did less than a
    real key run would; empty: it ran in full; ``None``: its check module has no rule here (not audited)."""
    if outcome.evidence is None:
        return [f"stopped before measuring: {outcome.reason}"]
    if spec.check.module in WHOLE:
        return []
    check = CHECKS.get(spec.check.module)
    return None if check is None else check(outcome.evidence.measured, spec)
