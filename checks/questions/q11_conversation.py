"""q11 — whose voice says what when CSM continues the slide's conversation.

The conversation is the one the question shows (:data:`SLIDE_TURNS`, texts verbatim): role "0" with
Emily's clip, role "1" with Jason's, then role "0" with text only. CSM generates
``thresholds.samples`` replies in one batched ``generate`` seeded with ``ctx.seed`` (a batch costs little more
than one reply; when the batch fails, one at a time with seeds ``ctx.seed … ctx.seed + samples - 1``; the CLI's
``--samples`` overrides), each at most ``thresholds.max_new_tokens`` frames, and every reply is

* transcribed (the ``asr`` model) and scored by WER against each distinct candidate text of the
  options (Whisper's English normalisation); its *text* is the best candidate when that WER is at most
  ``thresholds.intelligible_wer_max`` and it beats the runner-up;
* embedded (the ``speaker`` model) and compared with Emily's and Jason's clips; its *speaker* is
  Emily when ``sim(emily) - sim(jason) >= thresholds.similarity_margin``, Jason for the mirror case,
  else undecided.

A sample votes for the option whose ``value`` is its (speaker, text). The answer is the option
with the most votes when its share of all samples reaches ``thresholds.agreement_min`` and no
other option ties it. Two gates come first and make the question *not meaningful* (pending) rather
than answered: fewer than ``thresholds.intelligible_fraction_min`` of the samples intelligible (what
random or tiny weights give), or Emily's and Jason's clips too alike to tell apart
(``sim > thresholds.reference_similarity_max``). Every sample's audio is kept as an artifact.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from checks.audio import write_float_wav
from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, decide_single, threshold
from checks.metrics.wer import english_normalizer, rank_candidates
from checks.models.speaker import SpeakerError
from checks.questions.conversation import SLIDE_TURNS, SPEAKER_ASSETS, samples, slide_turns

log = logging.getLogger(__name__)

OPTIONAL_ASSETS: frozenset[str] = frozenset()


# ----------------------------------------------------------------------------- measurements


@dataclass
class Sample:
    """One generated reply."""

    seed: int
    frames: int
    """Frames CSM decoded (before its end frame)."""
    seconds: float
    ended: bool
    """True when CSM emitted its end frame (False: it ran to max_new_tokens)."""
    transcript: str
    wer: dict[str, float]
    """WER of the transcript against each candidate text (the candidate is the reference)."""
    similarity: dict[str, float | None]
    """Cosine similarity to each speaker's clip (``emily``, ``jason``); None when not measurable."""
    note: str = ""
    """Why something is missing (no audio, a clip the speaker encoder refused)."""
    audio_file: str | None = None
    """The sample's WAV in the artifacts folder."""
    batch_index: int | None = None
    """Its place in the batched ``generate`` call that made it (all samples share that call's seed); ``None``:
    generated alone with its own seed."""


@dataclass
class ConversationMeasured:
    model: str
    """The CSM that generated the samples."""
    samples_requested: int
    samples_from: str
    """``q11.yaml`` or ``--samples``."""
    max_new_tokens: int
    turns: list[dict[str, Any]]
    """The conversation as given to CSM (role, text, clip and its length)."""
    candidates: list[str]
    """The distinct option texts."""
    reference_similarity: float
    """Similarity between Emily's and Jason's clips."""
    samples: list[Sample] = field(default_factory=list)


# ----------------------------------------------------------------------------- pure decisions


@dataclass(frozen=True)
class Classified:
    """What one sample says, by the thresholds."""

    text: str | None
    speaker: str | None
    option: str | None
    intelligible: bool


def classify(s: Sample, spec) -> Classified:
    """What one sample says: its text (the best candidate when its WER ≤ ``intelligible_wer_max`` and it beats the
    runner-up), its speaker (Emily or Jason by ``similarity_margin``) and the option with that (speaker, text)."""
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    margin = float(threshold(spec, "similarity_margin"))
    ranked = sorted(s.wer.items(), key=lambda kv: kv[1])
    intelligible = bool(ranked) and ranked[0][1] <= wer_max
    text = None
    if intelligible and (len(ranked) == 1 or ranked[1][1] > ranked[0][1]):
        text = ranked[0][0]
    speaker = None
    se, sj = s.similarity.get("emily"), s.similarity.get("jason")
    if se is not None and sj is not None:
        if se - sj >= margin:
            speaker = "emily"
        elif sj - se >= margin:
            speaker = "jason"
    option = None
    if text is not None and speaker is not None:
        for opt in spec.options:
            v = opt.value or {}
            if v.get("speaker") == speaker and v.get("text") == text:
                option = opt.id
    return Classified(text, speaker, option, intelligible)


@dataclass(frozen=True)
class Gate:
    """Whether the samples can answer the question at all."""

    meaningful: bool
    why: str


def assess(m: ConversationMeasured, spec) -> Gate:
    """Whether the samples can answer at all: not meaningful when there are none, when Emily's and Jason's clips are
    more alike than ``reference_similarity_max``, or when fewer than ``intelligible_fraction_min`` are intelligible."""
    frac_min = float(threshold(spec, "intelligible_fraction_min"))
    ref_max = float(threshold(spec, "reference_similarity_max"))
    wer_max = float(threshold(spec, "intelligible_wer_max"))
    n = len(m.samples)
    if n == 0:
        return Gate(False, "no samples were generated")
    if m.reference_similarity > ref_max:
        return Gate(False, f"Emily's and Jason's clips are too alike to tell the voices apart (similarity "
                           f"{m.reference_similarity:.2f} > {ref_max:g})")
    k = sum(classify(s, spec).intelligible for s in m.samples)
    if k / n < frac_min:
        best = sorted(min(s.wer.values()) if s.wer else 1.0 for s in m.samples)
        return Gate(False, f"only {k} of {n} samples are intelligible (best WER ≤ {wer_max:g}; need ≥ {frac_min:.0%}); "
                           f"best WERs {', '.join(f'{w:.2f}' for w in best)}: the model says none of the candidate "
                           "texts (untrained or random weights give noise)")
    return Gate(True, f"{k} of {n} samples intelligible")


def gate(m: ConversationMeasured, spec) -> str | None:
    """Why the samples cannot answer the question (:func:`assess`), or ``None``."""
    g = assess(m, spec)
    return None if g.meaningful else g.why


def votes(m: ConversationMeasured, spec) -> dict[str, int]:
    """Option letter → the number of samples classified as that option (:func:`classify`)."""
    counts = {opt.id: 0 for opt in spec.options}
    for s in m.samples:
        c = classify(s, spec)
        if c.option is not None:
            counts[c.option] += 1
    return counts


def judge(m: ConversationMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: true for the majority option when its share of the samples reaches ``agreement_min`` and no other
    option ties it, false for the others; all undecided without such a majority or when the gate fails."""
    agreement_min = float(threshold(spec, "agreement_min"))
    g = assess(m, spec)
    if not g.meaningful:
        return {opt.id: OptionVerdict("undecided", f"not meaningful: {g.why}") for opt in spec.options}
    n = len(m.samples)
    counts = votes(m, spec)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    top, top_n = ranked[0]
    runner_n = ranked[1][1] if len(ranked) > 1 else 0
    share = top_n / n
    if top_n == 0 or top_n == runner_n or share < agreement_min:
        tally = ", ".join(f"{k}: {v}" for k, v in ranked)
        why = (f"no clear majority over {n} samples ({tally}; unclassified {n - sum(counts.values())}); "
               f"need one option in ≥ {agreement_min:.0%} of them")
        # the lean a review starts from: the plurality option (when it is alone at the top) true, the others false
        alone = top_n > runner_n
        return {opt.id: OptionVerdict("undecided", why, share - agreement_min,
                                      lean=None if not alone else "true" if opt.id == top else "false")
                for opt in spec.options}
    out = {}
    for opt in spec.options:
        k = counts[opt.id]
        if opt.id == top:
            out[opt.id] = OptionVerdict("true", f"{k} of {n} samples are {opt.text_en} (agreement {share:.0%} ≥ "
                                                f"{agreement_min:.0%})", share - agreement_min)
        else:
            out[opt.id] = OptionVerdict("false", f"{k} of {n} samples; the majority ({top_n}) is option {top}",
                                        (top_n - k) / n)
    return out


def table(m: ConversationMeasured, spec) -> list[str]:
    """The per-sample table as lines (for the summary and notes)."""
    rows = []
    for s in m.samples:
        c = classify(s, spec)
        sims = "/".join("—" if s.similarity.get(k) is None else f"{s.similarity[k]:.2f}" for k in ("emily", "jason"))
        wers = "/".join(f"{w:.2f}" for w in s.wer.values())
        label = f"seed {s.seed}" + (f" #{s.batch_index}" if s.batch_index is not None else "")
        rows.append(f"{label}: {s.seconds:.1f} s, “{s.transcript}”, WER {wers}, sim e/j {sims} → "
                    f"{c.option or '—'}{f' ({s.note})' if s.note else ''}")
    return rows


# ----------------------------------------------------------------------------- measuring


def summary(m: ConversationMeasured, spec) -> str:
    """The evidence line: the samples (seeds, frames, model), their votes and agreement, and the gate's reason."""
    n = len(m.samples)
    counts = votes(m, spec)
    top = max(counts.values())
    g = assess(m, spec)
    batched = bool(m.samples) and all(s.batch_index is not None for s in m.samples)
    seeds = ("none" if not m.samples else f"one batch, seed {m.samples[0].seed}" if batched
             else f"seeds {m.samples[0].seed}…{m.samples[-1].seed}")
    head = (f"{n} samples ({seeds}, ≤ {m.max_new_tokens} frames) of {m.model}: "
            f"votes {', '.join(f'{k} {v}' for k, v in counts.items())} (agreement {top}/{n} = {top / n:.0%})")
    return head + ("" if g.meaningful else f"; not meaningful — {g.why}")


def embed_each(encoder, clips: list, rate: int) -> list:
    """Every clip's speaker embedding from one batched call; when that call refuses a clip (silent, or too little
    voiced audio), each clip alone, so that a bad reply loses only its own similarity (its
    :class:`checks.models.speaker.SpeakerError` in its place)."""
    if not clips:
        return []
    try:
        return list(encoder.embed(clips, rate=rate))
    except SpeakerError:
        out: list = []
        for clip in clips:
            try:
                out.append(encoder.embed([clip], rate=rate)[0])
            except SpeakerError as exc:
                out.append(exc)
        return out


def compute(ctx, spec) -> Evidence:
    """Lets CSM continue the slide's conversation ``samples`` times (one batched, seeded call), then transcribes and
    embeds every reply (one batched call each): its WER against each candidate text and its similarity to Emily's
    and Jason's clips (WAVs as artifacts)."""
    runner = ctx.model("csm").model
    asr = ctx.model("asr").model
    encoder = ctx.model("speaker").model
    n = runner.options.samples or int(threshold(spec, "samples"))
    max_new = runner.options.max_new_tokens or int(threshold(spec, "max_new_tokens"))
    candidates = []
    for opt in spec.options:
        text = (opt.value or {}).get("text")
        speaker = (opt.value or {}).get("speaker")
        if not text or speaker not in SPEAKER_ASSETS:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id} needs value.text and value.speaker "
                            f"({' or '.join(SPEAKER_ASSETS)})")
        if text not in candidates:
            candidates.append(text)
    rate = runner.sampling_rate
    turns = slide_turns(ctx.assets, rate)
    refs = encoder.embed([ctx.asset(SPEAKER_ASSETS[k]) for k in SPEAKER_ASSETS])
    ref_sim = float(refs[0] @ refs[1])
    inputs = runner.prepare(turns)
    out_dir = ctx.artifact_dir(spec.id)
    gens = samples(ctx, runner, inputs, n, max_new)
    audible = [g for _, g, _ in gens if g is not None and not g.empty]
    transcripts = asr.transcribe([g.audio for g in audible], rate=rate) if audible else []
    heard = {id(g): t.text for g, t in zip(audible, transcripts)}
    voices = {id(g): e for g, e in zip(audible, embed_each(encoder, [g.audio for g in audible], rate))}
    norm = english_normalizer()
    m = ConversationMeasured(
        model=runner.info.description, samples_requested=n,
        samples_from="--samples" if runner.options.samples else f"questions/{spec.id}.yaml",
        max_new_tokens=max_new,
        turns=[{"role": t.role, "text": t.text, **({"audio": t.asset, "seconds": round(len(a.audio) / rate, 3)}
                                                     if t.asset else {})} for t, a in zip(SLIDE_TURNS, turns)],
        candidates=candidates, reference_similarity=ref_sim)
    hop = round(rate / float(runner.codec_config.frame_rate))
    for seed, g, failure in gens:
        sims: dict[str, float | None] = {k: None for k in SPEAKER_ASSETS}
        transcript, wer, note, audio_file = "", {c: 1.0 for c in candidates}, failure, None
        if g is not None and g.empty:
            note = "no audio: CSM emitted its end frame first"
        elif g is not None:
            transcript = heard[id(g)]
            ranking = rank_candidates(transcript, candidates, norm)
            wer = {c.text: c.wer for c in sorted(ranking.ranked, key=lambda c: candidates.index(c.text))}
            emb = voices[id(g)]
            if isinstance(emb, SpeakerError):
                note = f"no speaker similarity: {emb}"
            else:
                sims = {k: float(emb @ refs[j]) for j, k in enumerate(SPEAKER_ASSETS)}
            if out_dir is not None:
                path = out_dir / f"sample_{len(m.samples):02d}_seed{seed}.wav"  # its index tells batch members apart
                write_float_wav(path, g.audio, rate)
                audio_file = path.name
        frames = 0 if g is None else g.audio_frames
        m.samples.append(Sample(seed=seed, batch_index=None if g is None else g.batch_index, frames=frames,
                                seconds=round(frames * hop / rate, 3),
                                ended=g is not None and g.end_frame is not None, transcript=transcript, wer=wer,
                                similarity=sims, note=note, audio_file=audio_file))
    verdicts = judge(m, spec)
    notes = table(m, spec)
    notes.append(f"Emily/Jason reference clips: similarity {ref_sim:.2f}; clips read at {rate} Hz by checks.audio")
    return Evidence(spec.id, m, verdicts, summary(m, spec), artifacts=str(out_dir) if out_dir else None, notes=notes)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the majority option (see :func:`judge`); pending when the gate says the samples are not
    meaningful."""
    m = evidence.measured
    verdicts = judge(m, spec)
    g = assess(m, spec)
    if not g.meaningful:
        return Decision("pending", (), f"not meaningful: {g.why}", None, verdicts)
    return decide_single(verdicts, list(spec.letters), none_reason="; ".join(table(m, spec)))
