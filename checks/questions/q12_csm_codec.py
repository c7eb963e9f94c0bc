"""q12 — are CSM's generated audio tokens Mimi codes that a standalone Mimi decodes?

Four lines of evidence, each measured, each deciding the options it speaks to:

1. **config** — CSM's ``config.codec_config`` against the standalone Mimi's config, entry by entry
   (how a checkpoint was saved or is run is ignored: :data:`checks.questions.q12_weights.CONFIG_METADATA_KEYS`);
2. **weights** — CSM's ``codec_model`` state dict against the standalone Mimi's, tensor by tensor, and
   both hashed (sha256, at the lower precision of the two);
3. **reproduction** — every one of the replies to the slide's conversation (``thresholds.samples``, each ≤
   ``thresholds.max_new_tokens`` frames; q11's own replies when q11 ran in the same run with the same settings,
   else generated the same way: :func:`checks.questions.conversation.samples`): CSM's codes, cut at the first
   all-zero end frame as CSM does, decoded by the standalone Mimi, against CSM's own ``output_audio``: max
   |difference| ≤ ``thresholds.decode_max_abs_diff`` when both run in the same dtype, signal-to-difference ratio
   ≥ ``thresholds.decode_min_snr_db_mixed_dtype`` when they do not (e.g. CSM in bfloat16 on a GPU, Mimi in
   float32). Reproduced when every reply with audio is, not reproduced when none is; replies that disagree leave
   it undecided (a TA listens), so A never rests on one reply;
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
    code_min: int | None = None
    """The smallest code CSM generated in this reply (None: nothing generated before the end frame)."""
    code_max: int | None = None
    csm_audio_samples: int = 0
    mimi_audio_samples: int = 0
    max_abs_diff: float | None = None
    """max |standalone Mimi decode − CSM's output_audio| of this reply (None: nothing decoded to compare)."""
    snr_db: float | None = None
    """10·log10(Σ csm² / Σ (mimi − csm)²) of this reply; ``inf`` for identical audio."""
    audio_peak: float | None = None
    note: str = ""
    """Why this reply has nothing to compare (an end frame first, codes outside Mimi's range)."""


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
    """Every seeded reply (the first is the one above), compared with Mimi's decode and transcribed both ways: what
    A's reproduction and D are decided on."""


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


def _reproduction(x, same_dtype: bool, max_diff: float, min_snr: float,
                  dtypes: str) -> tuple[bool | None, str, float | None]:
    """One reply's reproduction ``(reproduced, why, margin)`` from its compared audio (``x``: a
    :class:`SpeechSample`, or the measurement itself for evidence from before replies were compared one by one)."""
    if x.frames_decoded == 0 or x.max_abs_diff is None:
        return None, (getattr(x, "note", "") or "CSM decoded no frames (its end frame came first)") + \
            ": nothing to compare", None
    if x.csm_audio_samples != x.mimi_audio_samples:
        return False, f"lengths differ: Mimi {x.mimi_audio_samples} vs CSM {x.csm_audio_samples} samples", None
    if same_dtype:
        margin = max_diff - x.max_abs_diff
        return margin >= 0, (f"max |Mimi decode − CSM output_audio| = {x.max_abs_diff:.3g} "
                             f"{'≤' if margin >= 0 else '>'} {max_diff:g} ({dtypes}; peak {x.audio_peak:.3g})"), margin
    snr = x.snr_db if x.snr_db is not None else -math.inf
    ok = snr >= min_snr
    return ok, (f"{dtypes}: SNR {snr:.1f} dB {'≥' if ok else '<'} {min_snr:g} dB (max |diff| {x.max_abs_diff:.3g}, "
                f"peak {x.audio_peak:.3g})"), snr - min_snr if math.isfinite(snr) else None


def _compared(m: CodecMeasured) -> list[tuple[str, Any]]:
    """``(label, reply)`` for every reply compared with Mimi's decode; evidence without per-reply comparisons gives
    the single first reply (the measurement's own fields)."""
    if any(r.max_abs_diff is not None or r.note for r in m.speech):
        return [(f"seed {r.seed}" + (f" #{r.batch_index}" if r.batch_index is not None else ""), r) for r in m.speech]
    return [(f"seed {m.seed}", m)]


def reproduction(m: CodecMeasured, spec) -> tuple[bool | None, str, float | None]:
    """Whether the standalone Mimi reproduces CSM's own audio, over every compared reply: ``True`` when every reply
    with something to compare does (margin: the smallest), ``False`` when none does, ``None`` when they disagree or
    nothing could be compared."""
    max_diff = float(threshold(spec, "decode_max_abs_diff"))
    min_snr = float(threshold(spec, "decode_min_snr_db_mixed_dtype"))
    decode = m.decode_dtype or m.mimi_dtype
    same = decode == m.csm_dtype
    dtypes = f"both {m.csm_dtype}" if same else f"Mimi ({decode}) decode vs CSM ({m.csm_dtype}) output_audio"
    results = [(label, *_reproduction(x, same, max_diff, min_snr, dtypes)) for label, x in _compared(m)]
    decided = [r for r in results if r[1] is not None]
    if not decided:
        return None, results[0][2] if len(results) == 1 else f"no reply to compare ({results[0][2]})", None
    ok = [r for r in decided if r[1]]
    if len(results) == 1:
        return decided[0][1], decided[0][2], decided[0][3]
    margins = [r[3] for r in decided if r[3] is not None]
    if len(ok) == len(decided):
        worst = min(decided, key=lambda r: math.inf if r[3] is None else r[3])
        return True, (f"in every one of {len(decided)} replies compared; the closest call, {worst[0]}: {worst[2]}"
                      + (f" ({len(results) - len(decided)} with nothing to compare)" if len(decided) < len(results)
                         else "")), min(margins) if margins else None
    failing = [r for r in decided if not r[1]]
    if not ok:
        return False, f"in none of {len(decided)} replies compared; {failing[0][0]}: {failing[0][2]}", None
    return None, (f"the replies disagree: reproduced in {len(ok)} of {len(decided)} ({', '.join(r[0] for r in ok)}), "
                  f"not in {failing[0][0]}: {failing[0][2]}; a TA listens to them"), None


def code_ranges(m: CodecMeasured) -> list[tuple[int, int]]:
    """``(smallest, largest)`` code of every reply that generated some (the first reply's alone for older
    evidence)."""
    ranges = [(x.code_min, x.code_max) for _, x in _compared(m) if x.code_min is not None]
    return ranges or ([(m.code_min, m.code_max)] if m.code_min is not None else [])


def lines(m: CodecMeasured, spec) -> Lines:
    """The four lines of evidence from the measurement: configs equal, weights identical, codes in Mimi's range (in
    every reply), CSM's audio reproduced by the standalone decode in every reply (:func:`reproduction`) and each
    audio intelligible (``intelligible_wer_max``)."""
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    ranges = code_ranges(m)
    in_range = None if not ranges else all(0 <= lo and hi < m.codebook_size for lo, hi in ranges)
    reproduced, why, margin = reproduction(m, spec)
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
        ranges = code_ranges(m)
        out["A"] = OptionVerdict("false", f"CSM generated codes {min(r[0] for r in ranges)}…"
                                          f"{max(r[1] for r in ranges)}, outside Mimi's 0…{m.codebook_size - 1}")
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


def _reply(codec, asr, g, dtype: str, prompt: str, rate: int):
    """``(reply, CSM's own audio, the standalone Mimi's decode)`` for one generation ``g``: its codes decoded by Mimi
    in CSM's ``dtype`` (like with like), compared sample by sample with CSM's audio, both transcribed. Nothing to
    decode (an end frame first, codes outside Mimi's range): the reply says why, the audios are ``None``."""
    import numpy as np

    codes = g.audio_codes()
    lo, hi = (int(codes.min()), int(codes.max())) if codes.numel() else (None, None)
    reply = SpeechSample(g.seed, g.audio_frames, None, None, None, None, g.batch_index, code_min=lo, code_max=hi)
    if g.empty or lo is None:
        reply.note = "CSM emitted its end frame first: no audio to decode or compare"
        return reply, None, None
    if lo < 0 or hi >= codec.codebook_size:
        reply.note = f"codes {lo}…{hi} are outside Mimi's codebooks: not decoded"
        return reply, None, None
    csm_audio = np.asarray(g.audio, dtype=np.float32)
    mimi_audio = codec.decode_as(codes, dtype)[0]
    reply.csm_audio_samples, reply.mimi_audio_samples = int(csm_audio.size), int(mimi_audio.size)
    if csm_audio.size == mimi_audio.size:
        d = mimi_audio.astype(np.float64) - csm_audio.astype(np.float64)
        reply.max_abs_diff = float(np.abs(d).max())
        noise = float((d ** 2).sum())
        signal = float((csm_audio.astype(np.float64) ** 2).sum())
        reply.snr_db = math.inf if noise == 0 else float(10 * np.log10(signal / noise))
    reply.audio_peak = float(np.abs(csm_audio).max())
    heard = asr.transcribe([csm_audio, mimi_audio], rate=rate)
    reply.transcript_csm, reply.transcript_mimi = heard[0].text, heard[1].text
    reply.wer_csm, reply.wer_mimi = wer(prompt, heard[0].text), wer(prompt, heard[1].text)
    return reply, csm_audio, mimi_audio


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
    m.decode_dtype = m.csm_dtype
    for i, (_, reply_gen, failure) in enumerate(replies):  # A's reproduction and D: every reply, not one
        if reply_gen is None:
            log.info("q12: reply %d was not generated (%s)", i, failure)
            continue
        reply, csm_audio, mimi_audio = _reply(codec, asr, reply_gen, m.csm_dtype, prompt, rate)
        m.speech.append(reply)
        if i == 0:  # the first reply's numbers head the evidence, its audio is kept to listen to
            m.csm_audio_samples, m.mimi_audio_samples = reply.csm_audio_samples, reply.mimi_audio_samples
            m.max_abs_diff, m.snr_db, m.audio_peak = reply.max_abs_diff, reply.snr_db, reply.audio_peak
            m.transcript_csm, m.transcript_mimi = reply.transcript_csm, reply.transcript_mimi
            m.wer_csm, m.wer_mimi = reply.wer_csm, reply.wer_mimi
            if reply.note:
                m.notes.append(reply.note)
            if out_dir is not None and csm_audio is not None:
                write_float_wav(out_dir / "csm_output_audio.wav", csm_audio, rate)
                write_float_wav(out_dir / "mimi_decode.wav", mimi_audio, rate)
        elif out_dir is not None and csm_audio is not None:
            write_float_wav(out_dir / f"csm_output_audio_{i:02d}.wav", csm_audio, rate)
            write_float_wav(out_dir / f"mimi_decode_{i:02d}.wav", mimi_audio, rate)
    if m.csm_dtype != m.mimi_dtype:
        m.notes.append(f"CSM runs in {m.csm_dtype}, the standalone Mimi in {m.mimi_dtype}: Mimi decoded CSM's codes "
                       f"in {m.csm_dtype} (a copy of it), so both decodes do the same arithmetic")
    return Evidence(spec.id, m, judge(m, spec), summary(m, spec), artifacts=str(out_dir) if out_dir else None,
                    notes=list(m.notes))


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option :func:`judge` finds true, the others false; else pending."""
    return decide_single(judge(evidence.measured, spec), list(spec.letters))
