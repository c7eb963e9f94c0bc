"""``hw10 doctor``'s ``assets`` step: every asset of the selected questions present and decoding, with the durations
the homework's files have (``thresholds`` of the questions that use them), alice/james of equal length, the q09 codes
file loading with ``weights_only=True`` as ``[1, 4, T]`` codes in ``0 … 2047``, EmoV-DB's layout and its clips per
speaker × emotion.
"""
from __future__ import annotations

from pathlib import Path

from checks.assets import find_asset, manifest
from checks.pipeline.doctor_findings import Doctor, Finding
from checks.pipeline.registry import load_check, optional_assets
from checks.questions.emovdb import EmovdbError, balanced_subset, counts, resolve_folder, scan
from checks.questions.layers import load_codes_file
from grader.errors import InputError


def assets(d: Doctor) -> list[Finding]:
    """Every asset of the selected questions (module docstring); a missing one says which questions wait."""
    folder = Path(d.options.assets) if d.options.assets else None
    optional: set[str] = set()
    for q in d.selected:
        optional |= set(optional_assets(load_check(d.bank[q].check.module)))
    out: list[Finding] = []
    for name, qids in sorted(manifest(d.bank[q] for q in d.selected).items()):
        if name.rstrip("/") == "emovdb":
            out += emovdb(d, folder)
            continue
        path = find_asset(folder, name)
        if path is None:
            if name in optional:
                out.append(Finding("assets", f"{name}: absent (optional for {', '.join(qids)})"))
            else:
                out.append(Finding("assets", f"{name}: missing ({', '.join(qids)} would be pending)", True,
                                   f"copy the Colab's {name} into {folder or '--assets FOLDER'}", stops_key=False))
            continue
        out += check_asset(d, name, path)
    out += equal_lengths(d, folder)
    return out


def check_asset(d: Doctor, name: str, path: Path) -> list[Finding]:
    """One asset file: a WAV decodes (with the duration its question expects), a text reads, the codes file
    validates."""
    suffix = path.suffix.lower()
    t = d.thresholds_of(name)
    if suffix == ".pt":

        try:
            f = load_codes_file(path, int(t.get("n_layers", 4)), int(t.get("codebook_size", 2048)))
        except InputError as exc:
            return [Finding("assets", str(exc), True, "copy the Colab's audio_codes_shuffled.pt again")]
        return [Finding("assets", f"{name}: {list(f.codes.shape)} codes ({f.stored_dtype})")]
    if suffix == ".txt":
        try:
            text = path.read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return [Finding("assets", f"{name}: unreadable ({exc})", True, "save it as UTF-8 text")]
        if not text:
            return [Finding("assets", f"{name}: empty", True, "put the clip's words in it, or remove it")]
        return [Finding("assets", f"{name}: {len(text.split())} words")]
    if suffix == ".wav":
        return wav(name, path, expected_seconds(d, name))
    return [Finding("assets", f"{name}: present")]


def expected_seconds(d: Doctor, name: str) -> float | None:
    """The duration the homework's file has, from its question's ``thresholds.clip_seconds``."""
    seconds = d.thresholds_of(name).get("clip_seconds") or {}
    return float(seconds[name]) if name in seconds else None


def wav(name: str, path: Path, seconds: float | None) -> list[Finding]:
    """A WAV file: decodes; its duration as expected (within one sample at its own rate); stereo or another rate
    is said (the checks downmix and resample it, as the Colab's librosa.load does)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        sf.read(str(path), frames=min(info.frames, info.samplerate), dtype="float32")
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError/TypeError on a bad file
        return [Finding("assets", f"{name}: does not decode as audio ({type(exc).__name__}: {exc})", True,
                        "copy the Colab's file again")]
    length = info.frames / info.samplerate
    form = f"{length:.3f} s, {info.samplerate} Hz, {'mono' if info.channels == 1 else f'{info.channels} channels'}"
    if seconds is not None and abs(length - seconds) > 1.0 / info.samplerate + 1e-9:
        return [Finding("assets", f"{name}: {form}, but the homework's clip lasts {seconds:g} s", True,
                        f"use the Colab's own {name}: the question's answer depends on its length")]
    note = " (downmixed/resampled when loaded, as the Colab does)" if info.channels != 1 else ""
    return [Finding("assets", f"{name}: {form}{note}")]


def equal_lengths(d: Doctor, folder: Path | None) -> list[Finding]:
    """alice.wav and james.wav (q10) of equal length within ``length_tolerance_s``."""
    import soundfile as sf

    a, j = find_asset(folder, "alice.wav"), find_asset(folder, "james.wav")
    if a is None or j is None or "q10" not in d.selected:
        return []
    tol = float(d.bank["q10"].thresholds.get("length_tolerance_s", 0.2))
    try:
        la, lj = (sf.info(str(p)).duration for p in (a, j))
    except Exception:
        return []  # said by wav()
    if abs(la - lj) > tol:
        return [Finding("assets", f"alice.wav ({la:.3f} s) and james.wav ({lj:.3f} s) differ by more than {tol:g} s",
                        True, "use the Colab's two equal-length clips")]
    return [Finding("assets", f"alice.wav and james.wav: equal length ({la:.3f} / {lj:.3f} s)")]


def emovdb(d: Doctor, folder: Path | None) -> list[Finding]:
    """EmoV-DB's layout and clips per speaker × emotion, against q06's clips per emotion."""

    try:
        root = resolve_folder(Path(d.options.emovdb) if d.options.emovdb else None, folder)
        clips = scan(root)
        per_class = int(d.options.per_class or d.bank["q06"].thresholds.get("per_class", 40))
        balanced_subset(clips, per_class)
    except EmovdbError as exc:
        text = str(exc) if "EmoV-DB" in str(exc) else f"EmoV-DB: {exc}"
        return [Finding("assets", text, True,
                        "download EmoV-DB (the Colab's cell) and pass --emovdb FOLDER", stops_key=False)]
    table = counts(clips)
    cells = "; ".join(f"{label} " + ", ".join(f"{s} {n}" for s, n in sorted(by.items()))
                      for label, by in table.items())
    return [Finding("assets", f"EmoV-DB {root}: {len(clips)} clips ({cells})")]
