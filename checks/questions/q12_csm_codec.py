"""q12 — are CSM's generated audio tokens Mimi codes that a standalone Mimi decodes?

Four lines of evidence, each measured, each deciding the options it speaks to:

1. **config** — CSM's ``config.codec_config`` against the standalone Mimi's config, entry by entry
   (how a checkpoint was saved or is run is ignored: :data:`checks.questions.q12_weights.CONFIG_METADATA_KEYS`);
2. **weights** — CSM's ``codec_model`` state dict against the standalone Mimi's, tensor by tensor, and
   both hashed (sha256, at the lower precision of the two);
3. **reproduction** — the first of the replies to the slide's conversation (≤ ``thresholds.max_new_tokens``
   frames; q11's own replies when q11 ran in the same run with the same settings, else generated the same way:
   :func:`checks.questions.conversation.samples`): CSM's codes, cut at the first all-zero end frame as CSM
   does, decoded by the standalone Mimi, against CSM's own ``output_audio``: max |difference| ≤
   ``thresholds.decode_max_abs_diff`` when both run in the same dtype, signal-to-difference ratio ≥
   ``thresholds.decode_min_snr_db_mixed_dtype`` when they do not (e.g. CSM in bfloat16 on a GPU,
   Mimi in float32);
4. **intelligibility** — both audios transcribed, WER against the prompt text (the last turn);
   ≤ ``thresholds.intelligible_wer_max`` is speech; for every one of ``thresholds.samples`` replies
   (``--samples`` overrides), so that D is not decided from one.

Verdicts: A (the tokens go straight back into Mimi) is true when 1 and 3 hold (with every code in
Mimi's range); B's premise (Mimi post-trained inside CSM) is refuted by identical weights, its
conclusion by 3; C's conclusion (cannot be decoded) is refuted by 3; D (only noise) is refuted by an
intelligible standalone decode in any reply, and true when some reply's own audio is speech while Mimi's
decode never is — with untrained weights (the tiny fixture) both audios are noise,
so D stays undecided and the question pending: the mechanism is shown, the "not noise" part needs
the real csm-1b.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from checks.audio import write_float_wav
from checks.evidence import Decision, Evidence, OptionVerdict, decide_single, threshold
from checks.metrics.wer import wer
from checks.models.csm import CsmGenerationError
from checks.questions.conversation import SLIDE_TURNS, samples, slide_turns
from checks.questions.q12_weights import compare_state_dicts, config_differences

log = logging.getLogger(__name__)

OPTIONAL_ASSETS: frozenset[str] = frozenset()


@dataclass
class SpeechSample:
    """One seeded reply: CSM's own audio and the standalone Mimi's decode of its codes, each transcribed."""

    seed: int
    frames_decoded: int
    transcript_csm: str | None
    transcript_mimi: str | None
    wer_csm: float | None
    wer_mimi: float | None
    batch_index: int | None = None
    """Its place in the batched ``generate`` all replies came from (they share its seed); ``None``: generated
    alone."""


@dataclass
class CodecMeasured:
    csm: str
    """The CSM checkpoint (description)."""
    mimi: str
    """The standalone Mimi checkpoint (description)."""
    config_differences: dict[str, list[Any]]
    """``{entry: [CSM codec's value, Mimi's value]}``; empty when the configs agree."""
    weights_dtype: str
    weights_sha256_csm_codec: str
    weights_sha256_mimi: str
    weights_tensors: int
    weights_differing: int
    weights_differing_names: list[str]
    seed: int
    max_new_tokens: int
    frames_generated: int
    """Frames ``generate`` returned, the end frame included."""
    end_frame: int | None
    """Index of the all-zero end frame (None: ran to max_new_tokens)."""
    frames_decoded: int
    code_min: int | None
    code_max: int | None
    codebook_size: int
    csm_dtype: str
    mimi_dtype: str
    csm_audio_samples: int
    mimi_audio_samples: int
    max_abs_diff: float | None
    """max |standalone Mimi decode − CSM's output_audio| (None when there is no audio to compare)."""
    snr_db: float | None
    """10·log10(Σ csm² / Σ (mimi − csm)²); ``inf`` for identical audio."""
    audio_peak: float | None
    """max |CSM's output_audio| (the scale of the difference)."""
    prompt_text: str
    transcript_csm: str | None
    transcript_mimi: str | None
    wer_csm: float | None
    wer_mimi: float | None
    notes: list[str] = field(default_factory=list)
    decode_dtype: str | None = None
    """The dtype the standalone Mimi decoded CSM's codes in: CSM's (a copy of Mimi cast to it when they differ)."""
    speech: list[SpeechSample] = field(default_factory=list)
    """Every seeded reply (the first is the one above), transcribed both ways: what D is decided on."""


# ----------------------------------------------------------------------------- pure decisions


@dataclass(frozen=True)
class Lines:
    """The four lines of evidence as booleans (None: not measurable)."""

    config_equal: bool
    weights_identical: bool
    codes_in_range: bool | None
    reproduced: bool | None
    reproduction_why: str
    reproduction_margin: float | None
    csm_intelligible: bool | None
    mimi_intelligible: bool | None


def lines(m: CodecMeasured, spec) -> Lines:
    """The four lines of evidence from the measurement: configs equal, weights identical, codes in Mimi's range,
    CSM's audio reproduced by the standalone decode (``decode_max_abs_diff`` or ``decode_min_snr_db_mixed_dtype``) and
    each audio intelligible (``intelligible_wer_max``)."""
    max_diff = float(threshold(spec, "decode_max_abs_diff"))
    min_snr = float(threshold(spec, "decode_min_snr_db_mixed_dtype"))
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    in_range = None if m.code_min is None else (0 <= m.code_min and m.code_max < m.codebook_size)
    reproduced: bool | None = None
    margin = None
    if m.frames_decoded == 0 or m.max_abs_diff is None:
        why = "CSM decoded no frames (its end frame came first): nothing to compare"
    elif m.csm_audio_samples != m.mimi_audio_samples:
        reproduced, why = False, (f"lengths differ: Mimi {m.mimi_audio_samples} vs CSM {m.csm_audio_samples} samples")
    elif (m.decode_dtype or m.mimi_dtype) == m.csm_dtype:
        margin = max_diff - m.max_abs_diff
        reproduced = margin >= 0
        why = (f"max |Mimi decode − CSM output_audio| = {m.max_abs_diff:.3g} {'≤' if reproduced else '>'} "
               f"{max_diff:g} (both {m.csm_dtype}; peak {m.audio_peak:.3g})")
    else:
        snr = m.snr_db if m.snr_db is not None else -math.inf
        margin = snr - min_snr if math.isfinite(snr) else None
        reproduced = snr >= min_snr
        why = (f"Mimi ({m.decode_dtype or m.mimi_dtype}) decode vs CSM ({m.csm_dtype}) output_audio: SNR {snr:.1f} dB "
               f"{'≥' if reproduced else '<'} {min_snr:g} dB (max |diff| {m.max_abs_diff:.3g}, "
               f"peak {m.audio_peak:.3g})")
    csm_ok = None if m.wer_csm is None else m.wer_csm <= wer_max
    mimi_ok = None if m.wer_mimi is None else m.wer_mimi <= wer_max
    return Lines(not m.config_differences, m.weights_differing == 0, in_range, reproduced, why, margin,
                 csm_ok, mimi_ok)


def _config_text(m: CodecMeasured) -> str:
    if not m.config_differences:
        return "CSM's codec_config equals the Mimi config"
    shown = ", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in list(m.config_differences.items())[:4])
    return f"{len(m.config_differences)} codec config entries differ ({shown})"


def _weights_text(m: CodecMeasured) -> str:
    if m.weights_differing == 0:
        return (f"CSM's codec weights are identical to the Mimi's ({m.weights_tensors} tensors, sha256 "
                f"{m.weights_sha256_mimi[:12]}… in {m.weights_dtype})")
    return (f"{m.weights_differing} of {m.weights_tensors} codec tensors differ "
            f"({', '.join(m.weights_differing_names[:3])}"
            f"…; sha256 {m.weights_sha256_csm_codec[:12]}… vs {m.weights_sha256_mimi[:12]}…)")


def _speech_text(m: CodecMeasured, spec) -> str:
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    replies = _replies(m) or [SpeechSample(m.seed, m.frames_decoded, m.transcript_csm, m.transcript_mimi, m.wer_csm,
                                           m.wer_mimi)]
    parts = []
    for r in replies:
        texts = [f"{who}: “{t}” WER {w:.2f}" if w is not None else f"{who}: not transcribed"
                 for who, w, t in (("Mimi's decode", r.wer_mimi, r.transcript_mimi),
                                   ("CSM's own audio", r.wer_csm, r.transcript_csm))]
        label = f"seed {r.seed}" + (f" #{r.batch_index}" if r.batch_index is not None else "")
        parts.append(("" if len(replies) == 1 else f"{label}: ") + "; ".join(texts))
    return " | ".join(parts) + f" (speech = WER ≤ {wer_max:g} against “{m.prompt_text}”)"


def _replies(m: CodecMeasured) -> list[SpeechSample]:
    """Every transcribed reply (older or hand-made evidence without ``speech``: the single one above)."""
    if m.speech:
        return [r for r in m.speech if r.wer_mimi is not None and r.wer_csm is not None]
    if m.wer_mimi is None or m.wer_csm is None:
        return []
    return [SpeechSample(m.seed, m.frames_decoded, m.transcript_csm, m.transcript_mimi, m.wer_csm, m.wer_mimi)]


def speech_counts(m: CodecMeasured, spec) -> tuple[int, int, int]:
    """Over the transcribed replies: (Mimi's decode is speech, only CSM's own audio is speech, neither is)."""
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    replies = _replies(m)
    mimi = sum(1 for r in replies if r.wer_mimi <= wer_max)
    csm_only = sum(1 for r in replies if r.wer_csm <= wer_max < r.wer_mimi)
    return mimi, csm_only, len(replies) - mimi - csm_only


def gate(m: CodecMeasured, spec) -> str | None:
    """Why these weights cannot answer the question (nothing decoded, or in no reply is either CSM's own audio or
    Mimi's decode speech: an untrained CSM makes noise either way), or ``None``."""
    replies = _replies(m)
    if not replies:
        return "no audio was transcribed (nothing decoded)"
    mimi, csm_only, _ = speech_counts(m, spec)
    if mimi == 0 and csm_only == 0:
        return (f"not meaningful with these weights: in none of {len(replies)} replies is CSM's own audio or Mimi's "
                f"decode speech ({_speech_text(m, spec)}); run with the real sesame/csm-1b")
    return None


def judge(m: CodecMeasured, spec) -> dict[str, OptionVerdict]:
    """Verdicts on A–D from :func:`lines`, as the module docstring lays out (A: config equal and reproduced; B, C:
    refuted by identical weights or reproduction; D: refuted by an intelligible standalone decode)."""
    L = lines(m, spec)
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    out: dict[str, OptionVerdict] = {}
    broke = L.reproduced is False and L.csm_intelligible is True and L.mimi_intelligible is False
    # A — decodable straight away
    if L.codes_in_range is False:
        out["A"] = OptionVerdict("false", f"CSM generated codes {m.code_min}…{m.code_max}, outside Mimi's "
                                          f"0…{m.codebook_size - 1}")
    elif L.reproduced is True and L.config_equal and L.codes_in_range:
        out["A"] = OptionVerdict("true", f"{_config_text(m)}; {L.reproduction_why}", L.reproduction_margin)
    elif broke:
        out["A"] = OptionVerdict("false", f"{L.reproduction_why}; CSM's own audio is speech but Mimi's decode is "
                                          f"not ({_speech_text(m, spec)})")
    else:
        why = L.reproduction_why if L.reproduced is not True else _config_text(m)
        out["A"] = OptionVerdict("undecided", why)
    # B — post-trained codec, cannot decode
    if L.weights_identical:
        out["B"] = OptionVerdict("false", f"{_weights_text(m)}: the codec was not post-trained")
    elif L.reproduced is True:
        out["B"] = OptionVerdict("false", f"{_weights_text(m)}, yet {L.reproduction_why}", L.reproduction_margin)
    elif broke:
        out["B"] = OptionVerdict("true", f"{_weights_text(m)}; {L.reproduction_why}; {_speech_text(m, spec)}")
    else:
        out["B"] = OptionVerdict("undecided", f"{_weights_text(m)}; {L.reproduction_why}")
    # C — not trained jointly, cannot decode
    if L.reproduced is True:
        out["C"] = OptionVerdict("false", f"the standalone Mimi decodes CSM's codes into CSM's own audio "
                                          f"({L.reproduction_why})", L.reproduction_margin)
    else:
        out["C"] = OptionVerdict("undecided", f"{L.reproduction_why}; nothing measured here tests C's reason "
                                              "(joint training)")
    # D — only noise: decided on every reply, not one seed
    replies = _replies(m)
    mimi, csm_only, neither = speech_counts(m, spec)
    tally = (f"of {len(replies)} replies, Mimi's decode is speech in {mimi}, only CSM's own audio in {csm_only}, "
             f"neither in {neither}")
    if mimi:
        best = min(r.wer_mimi for r in replies)
        out["D"] = OptionVerdict("false", f"Mimi's decode of CSM's codes is speech: {tally} ({_speech_text(m, spec)})",
                                 wer_max - best)
    elif csm_only:
        closest = min(r.wer_mimi for r in replies if r.wer_csm <= wer_max)
        out["D"] = OptionVerdict("true", f"CSM's own audio is speech but Mimi's decode never is: {tally} "
                                         f"({_speech_text(m, spec)})", closest - wer_max)
    elif replies:
        out["D"] = OptionVerdict("undecided", f"not meaningful with these weights: {tally} "
                                              f"({_speech_text(m, spec)}); an untrained CSM makes noise either way — "
                                              "run with the real sesame/csm-1b")
    else:
        out["D"] = OptionVerdict("undecided", "no audio was transcribed (nothing decoded)")
    return out


# ----------------------------------------------------------------------------- measuring


def _hear(codec, asr, g, codes, dtype: str, prompt: str, rate: int):
    """``(CSM's own audio, the standalone Mimi's decode of its codes in CSM's dtype, both transcribed)`` for one
    generation ``g``: like with like, Mimi runs in ``dtype``."""
    import numpy as np

    csm_audio = np.asarray(g.audio, dtype=np.float32)
    mimi_audio = codec.decode_as(codes, dtype)[0]
    heard = asr.transcribe([csm_audio, mimi_audio], rate=rate)
    return csm_audio, mimi_audio, SpeechSample(g.seed, g.audio_frames, heard[0].text, heard[1].text,
                                               wer(prompt, heard[0].text), wer(prompt, heard[1].text),
                                               g.batch_index)


def _speech_sample(codec, asr, g, dtype: str, prompt: str, rate: int) -> SpeechSample | None:
    """One more reply ``g``, decoded by the standalone Mimi (in CSM's dtype) and both audios transcribed; ``None``
    when there is nothing to decode (an end frame first, codes outside Mimi's range)."""
    codes = g.audio_codes()
    if g.empty or not codes.numel() or int(codes.min()) < 0 or int(codes.max()) >= codec.codebook_size:
        return None
    return _hear(codec, asr, g, codes, dtype, prompt, rate)[2]


def summary(m: CodecMeasured, spec) -> str:
    """The evidence line: config and weight comparison, the seeded generation, and whether Mimi reproduces it."""
    text = (f"{_config_text(m)}; {_weights_text(m)}; seed {m.seed}: {m.frames_decoded} frames decoded, "
            f"{lines(m, spec).reproduction_why}")
    if m.wer_mimi is not None:
        text += f"; WER of Mimi's decode vs the prompt {m.wer_mimi:.2f}"
    return text


def compute(ctx, spec) -> Evidence:
    """Compares CSM's codec config and weights with the standalone Mimi's, generates one seeded reply to the slide's
    conversation, decodes its codes with Mimi against CSM's own audio and transcribes both (codes and WAVs as
    artifacts)."""
    import numpy as np

    runner = ctx.model("csm").model
    codec = ctx.mimi()
    asr = ctx.model("asr").model
    max_new = runner.options.max_new_tokens or int(threshold(spec, "max_new_tokens"))
    diff = config_differences(runner.codec_config.to_dict(), codec.config.to_dict())
    weights = compare_state_dicts(runner.codec, codec.model)
    rate = runner.sampling_rate
    inputs = runner.prepare(slide_turns(ctx.assets, rate))
    n = runner.options.samples or int(threshold(spec, "samples"))
    replies = samples(ctx, runner, inputs, n, max_new)  # q11's replies when q11 ran in this run with these settings
    seed, g, failure = replies[0]
    if g is None:
        raise CsmGenerationError(failure)
    prompt = SLIDE_TURNS[-1].text
    codes = g.audio_codes()
    m = CodecMeasured(
        csm=runner.info.description, mimi=codec.info.description,
        config_differences={k: [a, b] for k, (a, b) in diff.items()},
        weights_dtype=weights.dtype, weights_sha256_csm_codec=weights.sha256_a, weights_sha256_mimi=weights.sha256_b,
        weights_tensors=weights.tensors, weights_differing=weights.n_differing,
        weights_differing_names=list(weights.differing),
        seed=seed, max_new_tokens=max_new, frames_generated=int(g.codes.shape[0]), end_frame=g.end_frame,
        frames_decoded=g.audio_frames,
        code_min=int(codes.min()) if codes.numel() else None, code_max=int(codes.max()) if codes.numel() else None,
        codebook_size=codec.codebook_size, csm_dtype=str(runner.dtype).replace("torch.", ""),
        mimi_dtype=str(codec.dtype).replace("torch.", ""), csm_audio_samples=0, mimi_audio_samples=0,
        max_abs_diff=None, snr_db=None, audio_peak=None, prompt_text=prompt, transcript_csm=None,
        transcript_mimi=None, wer_csm=None, wer_mimi=None)
    out_dir = ctx.artifact_dir(spec.id)
    if out_dir is not None:
        np.save(out_dir / "csm_codes.npy", g.codes.numpy())
    if g.empty:
        m.notes.append("CSM emitted its end frame first: no audio to decode or compare")
    elif m.code_min < 0 or m.code_max >= codec.codebook_size:
        m.notes.append(f"codes {m.code_min}…{m.code_max} are outside Mimi's codebooks: not decoded")
    else:
        csm_audio, mimi_audio, reply = _hear(codec, asr, g, codes, m.csm_dtype, prompt, rate)
        m.decode_dtype = m.csm_dtype
        m.csm_audio_samples, m.mimi_audio_samples = int(csm_audio.size), int(mimi_audio.size)
        if csm_audio.size == mimi_audio.size:
            d = mimi_audio.astype(np.float64) - csm_audio.astype(np.float64)
            m.max_abs_diff = float(np.abs(d).max())
            noise = float((d ** 2).sum())
            m.snr_db = math.inf if noise == 0 else float(10 * np.log10(float((csm_audio.astype(np.float64) ** 2).sum())
                                                                        / noise))
        m.audio_peak = float(np.abs(csm_audio).max())
        m.transcript_csm, m.transcript_mimi = reply.transcript_csm, reply.transcript_mimi
        m.wer_csm, m.wer_mimi = reply.wer_csm, reply.wer_mimi
        if out_dir is not None:
            write_float_wav(out_dir / "csm_output_audio.wav", csm_audio, rate)
            write_float_wav(out_dir / "mimi_decode.wav", mimi_audio, rate)
        m.speech.append(reply)
    for _, other, _ in replies[1:]:  # D is decided on every reply, not one
        reply = None if other is None else _speech_sample(codec, asr, other, m.csm_dtype, prompt, rate)
        if reply is not None:
            m.speech.append(reply)
    if m.csm_dtype != m.mimi_dtype:
        m.notes.append(f"CSM runs in {m.csm_dtype}, the standalone Mimi in {m.mimi_dtype}: Mimi decoded CSM's codes "
                       f"in {m.csm_dtype} (a copy of it), so both decodes do the same arithmetic")
    return Evidence(spec.id, m, judge(m, spec), summary(m, spec), artifacts=str(out_dir) if out_dir else None,
                    notes=list(m.notes))


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option :func:`judge` finds true, the others false; else pending."""
    return decide_single(judge(evidence.measured, spec), list(spec.letters))
