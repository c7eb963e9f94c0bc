"""EmoV-DB (openslr 115) as q06 uses it: find the clips, label them, pick a deterministic balanced subset.

The real corpus (non-commercial licence: never commit it) has four speakers, ``bea`` and ``jenie``
(female), ``sam`` and ``josh`` (male); ``josh`` recorded no angry and no disgusted clips. Each clip is
``<style>_<range>_<nnnn>.wav`` (e.g. ``amused_1-15_0001.wav``) with the style prefixes of
:data:`STYLE_TO_LABEL`; the same file names recur for every speaker, so the speaker comes from the
folders above the file (``bea/``, ``bea_Amused/``, ``Bea/Amused/`` …: the first path component under
the root whose leading word is a speaker's name). Clips outside any speaker folder are speaker
``unknown``. Sample rates are not documented: the loader resamples (:func:`checks.audio.load_audio`).

Everything that makes the folder unusable (missing, not a folder, no EmoV-DB file names, a class
missing, fewer clips than asked) is an :class:`EmovdbError` naming the folder and what was found.
numpy is imported lazily.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from checks.assets import AssetMissing

SPEAKERS: tuple[str, ...] = ("bea", "jenie", "sam", "josh")
"""EmoV-DB's speakers."""
STYLE_TO_LABEL: dict[str, str] = {"amused": "amused", "anger": "angry", "disgust": "disgusted",
                                  "neutral": "neutral", "sleepiness": "sleepy"}
"""File-name prefix → the emotion label the homework (and q06's options) use."""
LABELS: tuple[str, ...] = ("amused", "angry", "disgusted", "neutral", "sleepy")
"""The five emotion labels, in plotting order."""
ABSENT: dict[str, frozenset[str]] = {"josh": frozenset({"angry", "disgusted"})}
"""Labels a speaker never recorded."""
UNKNOWN_SPEAKER = "unknown"
DEFAULT_DIRNAME = "emovdb"
"""Name of the EmoV-DB folder inside the assets folder."""

FILE_RE = re.compile(r"^(?P<style>[a-z]+)_(?P<range>\d+-\d+)_(?P<index>\d{4})\.wav$", re.IGNORECASE)


class EmovdbError(AssetMissing):
    """The EmoV-DB folder cannot give the clips q06 asks for; the message names the folder."""


@dataclass(frozen=True)
class EmovdbClip:
    """One EmoV-DB recording."""

    path: Path
    speaker: str
    """One of :data:`SPEAKERS`, or ``unknown`` when no folder above the file names a speaker."""
    label: str
    """Emotion label (one of :data:`LABELS`)."""
    style: str
    """The file-name prefix (``anger``, ``sleepiness`` …)."""
    sentences: str
    """The ``<range>`` part of the name (e.g. ``1-15``)."""
    index: int
    """The ``<nnnn>`` part of the name."""

    @property
    def name(self) -> str:
        return f"{self.speaker}/{self.path.name}"


def resolve_folder(emovdb: Path | None, assets: Path | None) -> Path:
    """The EmoV-DB folder: ``emovdb`` when given, else ``<assets>/emovdb``; an :class:`EmovdbError` saying
    what to pass when neither exists."""
    if emovdb is not None:
        folder = Path(emovdb).expanduser()
        if not folder.exists():
            raise EmovdbError(f"--emovdb {folder}: no such folder")
        if not folder.is_dir():
            raise EmovdbError(f"--emovdb {folder}: not a folder (pass the folder holding the EmoV-DB clips)")
        return folder
    if assets is None:
        raise EmovdbError("needs EmoV-DB: pass --emovdb DIR (or --assets DIR holding an emovdb/ folder); "
                          "download it from https://www.openslr.org/115/")
    folder = Path(assets) / DEFAULT_DIRNAME
    if not folder.is_dir():
        raise EmovdbError(f"{DEFAULT_DIRNAME}/ not found in {assets}: pass --emovdb DIR or put EmoV-DB "
                          f"(https://www.openslr.org/115/) in {folder}")
    return folder


def _speaker_of(rel_parts: Sequence[str]) -> str:
    for part in rel_parts:
        word = re.split(r"[_\-\s.]+", part.lower(), maxsplit=1)[0]
        if word in SPEAKERS:
            return word
    return UNKNOWN_SPEAKER


def scan(folder: Path) -> list[EmovdbClip]:
    """Every EmoV-DB clip under ``folder`` (recursively), sorted by speaker, label and file name.

    Raises :class:`EmovdbError` when the folder holds no file named like an EmoV-DB clip."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EmovdbError(f"{folder}: not a folder")
    clips: list[EmovdbClip] = []
    strays: list[str] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.suffix.lower() != ".wav":
            continue
        m = FILE_RE.match(p.name)
        style = m.group("style").lower() if m else None
        if style not in STYLE_TO_LABEL:
            strays.append(str(p.relative_to(folder)))
            continue
        rel = p.relative_to(folder).parts[:-1]
        clips.append(EmovdbClip(p, _speaker_of(rel), STYLE_TO_LABEL[style], style, m.group("range"),
                                int(m.group("index"))))
    if not clips:
        seen = f"; it has {len(strays)} other .wav files, e.g. {', '.join(strays[:3])}" if strays else \
            "; it has no .wav files"
        raise EmovdbError(f"{folder} is not EmoV-DB: no file is named <style>_<range>_<nnnn>.wav with a style "
                          f"of {', '.join(STYLE_TO_LABEL)} (e.g. amused_1-15_0001.wav){seen}")
    clips.sort(key=lambda c: (c.speaker, LABELS.index(c.label), c.path.name))
    return clips


def counts(clips: Iterable[EmovdbClip]) -> dict[str, dict[str, int]]:
    """``{label: {speaker: number of clips}}``."""
    out: dict[str, Counter] = {label: Counter() for label in LABELS}
    for c in clips:
        out[c.label][c.speaker] += 1
    return {label: dict(sorted(cnt.items())) for label, cnt in out.items()}


def _rng_seed(seed: int, label: str, speaker: str) -> int:
    digest = hashlib.sha256(f"{seed}/{label}/{speaker}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def complete_speakers(clips: Iterable[EmovdbClip],
                      labels: Sequence[str] = LABELS) -> tuple[list[str], dict[str, list[str]]]:
    """The speakers with clips of every label in ``labels`` (sorted), and every other speaker with the labels it
    lacks (EmoV-DB's josh recorded no angry and no disgusted clips). A subset drawn from the complete speakers
    has the same speakers in every emotion, so the speaker cannot be what separates the emotions."""
    table = counts(clips)
    found = sorted({spk for per in table.values() for spk in per})
    lacking = {spk: [x for x in labels if not table.get(x, {}).get(spk)] for spk in found}
    return [s for s in found if not lacking[s]], {s: miss for s, miss in lacking.items() if miss}


def balanced_subset(clips: Sequence[EmovdbClip], per_class: int, labels: Sequence[str] = LABELS,
                    speakers: Sequence[str] | None = None, seed: int = 0,
                    folder: Path | str = "EmoV-DB") -> list[EmovdbClip]:
    """``per_class`` clips of every label in ``labels``, deterministic for a given ``seed``.

    Within a label the clips are spread over its speakers as evenly as possible (round robin over the
    speakers, each speaker's clips in a seeded order), so no speaker dominates a class. ``speakers``
    (default: all found) restricts the speakers. Raises :class:`EmovdbError` for an unknown label or
    speaker, a label with no clip, or a label with fewer than ``per_class`` clips."""
    import numpy as np

    if per_class < 1:
        raise EmovdbError(f"--per-class must be at least 1, got {per_class}")
    unknown = [x for x in labels if x not in LABELS]
    if unknown:
        raise EmovdbError(f"unknown emotion label(s) {', '.join(unknown)}; EmoV-DB has {', '.join(LABELS)}")
    pool = list(clips)
    if speakers is not None:
        bad = [s for s in speakers if s not in SPEAKERS and s != UNKNOWN_SPEAKER]
        if bad:
            raise EmovdbError(f"unknown speaker(s) {', '.join(bad)}; EmoV-DB has {', '.join(SPEAKERS)}")
        pool = [c for c in pool if c.speaker in speakers]
    table = counts(pool)
    who = f" (speakers {', '.join(speakers)})" if speakers is not None else ""
    missing = [x for x in labels if not table[x]]
    if missing:
        raise EmovdbError(f"{folder}: no {', '.join(missing)} clips{who}: q06 needs every emotion of "
                          f"{', '.join(labels)}; found {_table_text(table, labels)}")
    short = [x for x in labels if sum(table[x].values()) < per_class]
    if short:
        raise EmovdbError(f"{folder}: fewer clips than --per-class {per_class} for {', '.join(short)}{who}: "
                          f"found {_table_text(table, labels)}; lower --per-class or add clips")
    chosen: list[EmovdbClip] = []
    for label in labels:
        by_speaker: dict[str, list[EmovdbClip]] = {}
        for c in pool:
            if c.label == label:
                by_speaker.setdefault(c.speaker, []).append(c)
        queues = []
        for spk in sorted(by_speaker):
            items = sorted(by_speaker[spk], key=lambda c: c.path.name)
            order = np.random.default_rng(_rng_seed(seed, label, spk)).permutation(len(items))
            queues.append([items[i] for i in order])
        picked: list[EmovdbClip] = []
        depth = 0
        while len(picked) < per_class:
            for q in queues:
                if depth < len(q) and len(picked) < per_class:
                    picked.append(q[depth])
            depth += 1
        chosen.extend(picked)
    return chosen


def _table_text(table: dict[str, dict[str, int]], labels: Sequence[str]) -> str:
    parts = []
    for x in labels:
        per = table[x]
        detail = ", ".join(f"{s} {n}" for s, n in per.items())
        parts.append(f"{x} {sum(per.values())}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)
