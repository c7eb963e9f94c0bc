"""q10's measuring half: the Alice/James clip pair and its ``n + 1`` splices, decoded, transcribed and embedded.

The inputs (:func:`equalise_lengths`, :func:`refuse_silence`, :func:`reference_texts`) and the two ways of
measuring every split: :func:`batched_splits` (what q10 does) and :func:`naive_splits` (one split at a time,
as a Colab would; the other side of ``hw10 bench``). :mod:`checks.questions.q10_splits` judges the table.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from checks.assets import find_asset
from checks.audio import AudioError, rms_dbfs
from checks.models.batching import decode_many
from checks.models.speaker import SpeakerError
from checks.questions.layers import all_splits, split_codes
from checks.timing import part

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from checks.timing import PartClock

TEXTS = {"alice": "alice.txt", "james": "james.txt"}
"""Each speaker's reference text file in the assets folder (optional)."""


# ----------------------------------------------------------------------------- inputs


def equalise_lengths(alice: "np.ndarray", james: "np.ndarray", rate: int, tolerance_s: float,
                     names: tuple[str, str] = ("alice.wav", "james.wav"),
                     ) -> tuple["np.ndarray", "np.ndarray", str | None]:
    """Equal-length clips (the homework's premise): identical lengths pass; lengths differing by at most
    ``tolerance_s`` are trimmed to the shorter, with a note; anything else is an :class:`AudioError`."""
    na, nj = len(alice), len(james)
    if na == nj:
        return alice, james, None
    diff = abs(na - nj) / rate
    if diff > tolerance_s:
        raise AudioError(f"{names[0]} ({na / rate:.2f} s) and {names[1]} ({nj / rate:.2f} s) differ by {diff:.2f} s "
                         f"> length_tolerance_s {tolerance_s:g}: q10 needs two equal-length clips (pad or cut them "
                         "to the same length first)")
    n = min(na, nj)
    longer = names[0] if na > nj else names[1]
    return alice[:n], james[:n], f"{longer} trimmed by {diff * 1000:.0f} ms to the other clip's length"


def refuse_silence(x: "np.ndarray", name: str, max_dbfs: float) -> None:
    """An :class:`AudioError` when clip ``name`` is silent (RMS ≤ ``max_dbfs``, i.e. ``silence_rms_dbfs_max``)."""
    level = rms_dbfs(x)
    if level <= max_dbfs:
        shown = "-inf (digital silence)" if level == float("-inf") else f"{level:.1f}"
        raise AudioError(f"{name}: silent (RMS {shown} dBFS ≤ silence_rms_dbfs_max {max_dbfs:g}); q10 needs speech")


def reference_texts(ctx) -> dict[str, str | None]:
    """Per speaker, the text file's content, or None when the assets folder has no such file."""
    out: dict[str, str | None] = {}
    for who, name in TEXTS.items():
        p = find_asset(ctx.assets, name)
        if p is None:
            out[who] = None
            continue
        try:
            text = " ".join(p.read_text(encoding="utf-8").split())
        except (OSError, UnicodeDecodeError) as exc:
            raise AudioError(f"{p}: cannot read the reference text ({exc})") from None
        if not text:
            raise AudioError(f"{p}: the reference text is empty (delete the file to use the clip's transcript)")
        out[who] = text
    return out


# ----------------------------------------------------------------------------- measuring


def embed_each(encoder, clips: Sequence["np.ndarray"], rate: int) -> list:
    """Speaker embeddings in one batch; if the encoder refuses the batch, clip by clip, each refused clip
    giving its message (str) in place of a vector."""
    try:
        return list(encoder.embed(list(clips), rate=rate))
    except SpeakerError:
        out = []
        for x in clips:
            try:
                out.append(encoder.embed([x], rate=rate)[0])
            except SpeakerError as exc:
                out.append(str(exc).replace("clip 0: ", ""))
        return out


def batched_splits(codec, asr, encoder, codes: "torch.Tensor", extra_clips: Sequence["np.ndarray"] = (),
                   decode_batch: int | None = None, clock: "PartClock | None" = None):
    """Ours: the ``n + 1`` splits of ``codes`` (``[2, n, T]``: Alice, James) decoded (``decode_batch`` per call;
    ``None``: the device's default, see :mod:`checks.models.batching`), transcribed in one ASR call, embedded in one
    batch. ``extra_clips`` (the originals) ride along in the ASR and speaker batches. Returns ``(audio [n+1, N],
    transcripts, embeddings)``; extras come last in both lists. ``clock`` (``hw10 bench``) gets the time per part."""
    with part(clock, "decode"):
        audio = decode_many(codec, all_splits(codes[0:1], codes[1:2]), decode_batch)
    clips = list(audio) + list(extra_clips)
    with part(clock, "asr"):
        transcripts = asr.transcribe(clips, rate=codec.sampling_rate)
    with part(clock, "speaker"):
        embeddings = embed_each(encoder, clips, codec.sampling_rate)
    return audio, transcripts, embeddings


def naive_splits(codec, asr, encoder, codes: "torch.Tensor", extra_clips: Sequence["np.ndarray"] = (),
                 clock: "PartClock | None" = None):
    """The Colab way, for ``hw10 bench``: each split decoded, transcribed and embedded on its own. Same return value."""
    import numpy as np

    audio, transcripts, embeddings = [], [], []
    for k in range(codes.shape[1] + 1):
        with part(clock, "decode"):
            audio.append(codec.decode(split_codes(codes[0:1], codes[1:2], k))[0])
    for x in list(audio) + list(extra_clips):
        with part(clock, "asr"):
            transcripts.extend(asr.transcribe([x], rate=codec.sampling_rate))
        with part(clock, "speaker"):
            embeddings.extend(embed_each(encoder, [x], codec.sampling_rate))
    return np.stack(audio), transcripts, embeddings
