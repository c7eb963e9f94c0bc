"""`hw10 doctor` (checks/pipeline/doctor.py): every problem the TA's one key run could trip over is one line naming
the file or model and the fix, found before any weights load; no network is a line, never a hang. The Hub is the
local fake of tests/fake_hub.py (the real one cannot be reached here); assets are real files made broken."""
from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from fake_hub import GOOD_TOKEN, KNOWN_TOKEN, serve_fake_hub

from checks.pipeline.doctor import examine, probe_hub
from checks.pipeline.options import KeyRunOptions
from hw10.cli import main

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "fixtures" / "assets"
TINY = ROOT / "fixtures" / "tiny_mimi"
OFFLINE = {"--asr": "faster-whisper:tiny.en-bundled", "--mimi": str(TINY)}


@pytest.fixture(scope="module")
def hub():
    with serve_fake_hub() as url:
        yield url


@pytest.fixture
def no_token(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_saved_login"))


def doctor(*args: str, **flags: str) -> tuple[int, str]:
    argv = ["doctor", *args]
    for k, v in {**OFFLINE, **flags}.items():
        argv += [k, v]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    assert "Traceback" not in err.getvalue()
    return rc, out.getvalue()


def problems(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("✗")]


def copy_assets(tmp_path: Path) -> Path:
    folder = tmp_path / "assets"
    shutil.copytree(ASSETS, folder)
    return folder


def test_the_fixtures_can_go_without_any_network(monkeypatch):
    """Local models and the committed assets: exit 0, every line a ✓, and not one network call (the Hub endpoint
    points at a closed port: a call would be a problem line)."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    rc, out = doctor("--questions", "1-10", "--assets", str(ASSETS), "--per-class", "2", "--device", "cpu")
    assert rc == 0 and problems(out) == [], out
    for fact in ("torch 2.13.0", "device: cpu", "Mimi: local folder", "2sAudio.wav: 2.000 s",
                 "audio_codes_shuffled.pt: [1, 4, 81] codes", "EmoV-DB", "alice.wav and james.wav: equal length",
                 "disk:", "0 problem(s): the key run can go"):
        assert fact in out, fact


@pytest.mark.parametrize("break_it, says", [
    (lambda d: sf.write(str(d / "2sAudio.wav"), np.zeros(32160, np.float32) + 0.1, 16000),
     "2sAudio.wav: 2.010 s, 16000 Hz, mono, but the homework's clip lasts 2 s"),
    (lambda d: (d / "audio_codes_shuffled.pt").write_bytes(b"\x80\x04cos\nsystem\n(S'echo pwned'\ntR."),
     "audio_codes_shuffled.pt"),
    (lambda d: torch.save(torch.zeros(1, 8, 5, dtype=torch.int64), str(d / "audio_codes_shuffled.pt")),
     "audio_codes_shuffled.pt"),
    (lambda d: (d / "alice.wav").write_bytes(b"RIFF not audio"), "alice.wav: does not decode as audio"),
    (lambda d: sf.write(str(d / "james.wav"), np.full(24000 * 3, 0.1, np.float32), 24000),
     "alice.wav (4.480 s) and james.wav (3.000 s) differ by more than 0.2 s"),
    (lambda d: (d / "alice.txt").write_text("  \n", encoding="utf-8"), "alice.txt: empty"),
    (lambda d: (d / "music.wav").unlink(), "music.wav: missing (q08 would be pending)"),
])
def test_each_bad_asset_is_one_line_with_its_fix(tmp_path, break_it, says):
    folder = copy_assets(tmp_path)
    break_it(folder)
    rc, out = doctor("--questions", "1-10", "--assets", str(folder), "--per-class", "2", "--device", "cpu")
    bad = problems(out)
    assert rc == 1 and len(bad) == 1 and says in bad[0] and " — " in bad[0], out


def test_the_codes_file_is_never_unpickled_beyond_tensors(tmp_path):
    folder = copy_assets(tmp_path)
    marker = tmp_path / "ran"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    (folder / "audio_codes_shuffled.pt").write_bytes(b"\x80\x02" + payload)
    rc, out = doctor("--questions", "9", "--assets", str(folder), "--device", "cpu")
    assert rc == 1 and not marker.exists() and "audio_codes_shuffled.pt" in problems(out)[0]


def test_a_stereo_44k_clip_of_the_right_length_is_said_not_refused(tmp_path):
    folder = copy_assets(tmp_path)
    sf.write(str(folder / "4sAudio.wav"), np.zeros((44100 * 4, 2), np.float32) + 0.1, 44100)
    rc, out = doctor("--questions", "1", "--assets", str(folder), "--device", "cpu")
    assert rc == 0 and "4sAudio.wav: 4.000 s, 44100 Hz, 2 channels (downmixed/resampled when loaded" in out


def test_an_empty_emovdb_folder(tmp_path):
    empty = tmp_path / "emovdb"
    empty.mkdir()
    rc, out = doctor("--questions", "6", "--emovdb", str(empty), "--device", "cpu")
    (line,) = problems(out)
    assert rc == 1 and "is not EmoV-DB" in line and "--emovdb" in line


def test_hub_access_no_token_gated_and_granted(hub, no_token, monkeypatch):
    """sesame/csm-1b: without a token, with a token whose account has not accepted the terms, with one that has."""
    monkeypatch.setenv("HF_ENDPOINT", hub)
    args = ("--questions", "11", "--assets", str(ASSETS), "--device", "cpu")
    rc, out = doctor(*args)
    (line,) = problems(out)
    assert rc == 1 and "sesame/csm-1b needs a Hugging Face token and none is set" in line and "HF_TOKEN" in line
    assert "accepted at https://huggingface.co/sesame/csm-1b" in line
    monkeypatch.setenv("HF_TOKEN", KNOWN_TOKEN)
    rc, out = doctor(*args)
    (line,) = problems(out)
    assert "refuses this token's account (HTTP 403, GatedRepo)" in line
    assert "accept its terms" in line and "https://huggingface.co/sesame/csm-1b" in line
    assert KNOWN_TOKEN not in out  # the token itself is never printed
    monkeypatch.setenv("HF_TOKEN", "hf_bogus")
    assert "the one found is not valid" in problems(doctor(*args)[1])[0]
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)
    rc, out = doctor(*args)
    assert rc == 0 and "CSM: sesame/csm-1b readable on the Hub" in out


def test_a_pinned_revision_that_does_not_exist(hub, no_token, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub)
    rc, out = doctor("--questions", "3", "--device", "cpu", **{"--mimi": "kyutai/mimi", "--mimi-revision": "v9"})
    (line,) = problems(out)
    assert rc == 1 and "kyutai/mimi has no revision 'v9'" in line


def test_no_network_is_a_line_not_a_hang(hub, no_token, monkeypatch):
    """A closed port answers at once; a server that never answers is given up after --timeout."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    rc, out = doctor("--questions", "3", "--device", "cpu", **{"--mimi": "kyutai/mimi"})
    (line,) = problems(out)
    assert rc == 1 and "cannot reach http://127.0.0.1:9" in line and "--mimi PATH" in line
    start = time.monotonic()
    answer = probe_hub("slow/model", None, endpoint=hub, token=None, timeout=0.5)
    assert time.monotonic() - start < 3 and answer.offline and "within 0.5 s" in answer.why


def test_hw10_key_stops_before_loading_any_model(hub, no_token, monkeypatch, tmp_path, capsys):
    """The same checks run first in `hw10 key`: a gated model refused, or a wrong clip, stops it (exit 2) with the
    lines, before any weights load and without writing a key; a missing asset still only makes its questions
    pending."""
    monkeypatch.setenv("HF_ENDPOINT", hub)
    key = tmp_path / "k.yaml"
    rc = main(["key", "--questions", "11", "--assets", str(ASSETS), "--device", "cpu", "--out", str(key),
               "--asr", "faster-whisper:tiny.en-bundled", "--no-cache"])
    err = capsys.readouterr().err
    assert rc == 2 and "the run cannot go" in err and "sesame/csm-1b" in err and "--questions" in err
    assert not key.exists()
    folder = copy_assets(tmp_path)
    sf.write(str(folder / "4sAudio.wav"), np.full(24000 * 5, 0.1, np.float32), 24000)
    rc = main(["key", "--questions", "1", "--assets", str(folder), "--mimi", "architecture", "--device", "cpu",
               "--out", str(key), "--no-cache"])
    assert rc == 2 and "4sAudio.wav: 5.000 s" in capsys.readouterr().err and not key.exists()


def test_findings_as_json_for_a_notebook():
    import json

    rc, out = doctor("--questions", "3", "--device", "cpu", "--json")
    data = json.loads(out)
    assert rc == 0 and {"step", "text", "problem", "fix", "stops_key"} <= set(data[0])


def test_examine_is_the_same_list_the_command_prints():
    opts = KeyRunOptions(select="3", mimi=str(TINY), device="cpu")
    from grader.spec import load_bank

    steps = {f.step for f in examine(opts, load_bank())}
    assert steps == {"software", "device", "models", "disk", "estimate"}  # q03 needs no asset


def test_speaker_weights_installed_unreachable_or_downloadable(monkeypatch, tmp_path):
    """Resemblyzer's weights: from the installed package (this environment); without it and its cache, PyPI is asked
    (a closed port: a problem line with the fix; the fake of tests/test_ge2e_weights.py's kind: a download line)."""
    from http.server import BaseHTTPRequestHandler

    from local_server import serve

    from checks.models import ge2e

    rc, out = doctor("--questions", "10", "--device", "cpu")
    assert "speaker: resemblyzer 0.1.4 weights (installed resemblyzer package" in out
    monkeypatch.setattr(ge2e, "installed_weights", lambda: None)  # as after `pip install ".[key]"`: no package
    monkeypatch.setenv("HW10_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HW10_PYPI_URL", "http://127.0.0.1:9")
    rc, out = doctor("--questions", "10", "--device", "cpu")
    (line,) = [p for p in problems(out) if "speaker" in p]
    assert rc == 1 and "cannot be reached" in line and "pretrained.pt to" in line

    class PyPI(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            ok = self.path == "/simple/resemblyzer/"
            self.send_response(200 if ok else 404)
            self.end_headers()
            if ok:
                self.wfile.write(f'<a href="/f/{ge2e.WHEEL}">{ge2e.WHEEL}</a>'.encode())

        def log_message(self, *args):
            pass

    with serve(PyPI) as url:
        monkeypatch.setenv("HW10_PYPI_URL", url)
        rc, out = doctor("--questions", "10", "--device", "cpu")
    assert [p for p in problems(out) if "speaker" in p] == [] and f"weights download from {url}/simple/" in out


def test_the_estimate_adds_up_the_measured_questions_and_weighs_free_memory(monkeypatch):
    """The estimate is the key_real record's loads plus the selected questions, with where it comes from; less free
    memory than its peak is a problem (the free memory is the one thing replaced: this machine has plenty)."""
    from checks.bench import measured
    from checks.pipeline import doctor_estimate
    from grader.spec import load_bank

    record = measured.cpu_record(OFFLINE["--asr"])
    # figures for questions of the bank (a newer question without one is "not measured": the test below)
    assert record is not None and record.peak_gb > 0 and set(record.question_s) <= set(load_bank().ids)
    monkeypatch.setattr(doctor_estimate, "available_memory_gb", lambda: record.peak_gb / 4)
    rc, out = doctor("--questions", "3", "--device", "cpu")  # Mimi only: a small machine is fine
    minutes = record.seconds(["q03"]) / 60
    assert f"run time ≈ {minutes:.0f} min for 1 question(s), peak memory below the whole key's" in out
    assert record.command in out and not [p for p in problems(out) if "run time" in p]
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # csm-1b's Hub check: a line at once, not a wait
    rc, out = doctor("--questions", "11", "--device", "cpu", "--assets", str(ASSETS))  # CSM: the measured peak
    (line,) = [p for p in problems(out) if "run time" in p]
    assert f"peak memory ≈ {record.peak_gb:.1f} GB for 1 question(s)" in line
    assert rc == 1 and "of memory is free" in line and "or run on a GPU machine" in line


def test_a_cpu_run_with_openai_whisper_is_told_what_faster_whisper_took(tmp_path):
    """On a CPU the ASR is most of a key run: with the homework's openai-whisper the estimate also gives the measured
    figure with --asr faster-whisper:turbo (and says its transcripts were not compared on real weights); a run that
    already uses faster-whisper is estimated from that record."""
    from checks.bench import measured

    fw, ow = measured.CPU_2_CORES_FASTER_WHISPER, measured.CPU_2_CORES
    assert fw is not None and ow is not None and fw.seconds(["q09"]) < ow.seconds(["q09"])
    checkpoint = tmp_path / "turbo.pt"
    checkpoint.write_bytes(b"not read by the doctor")
    openai = {"--asr": f"openai-whisper:{checkpoint}"}
    rc, out = doctor("--questions", "9", "--device", "cpu", **openai)
    (line,) = [x for x in out.splitlines() if "run time" in x]
    assert f"run time ≈ {ow.seconds(['q09']) / 60:.0f} min for 1 question(s)" in line and ow.command in line
    assert (f"with --asr faster-whisper:turbo (int8 on a CPU) these questions took {fw.seconds(['q09']) / 60:.0f} "
            "min") in line and "not been compared with openai-whisper's on the real weights" in line
    rc, out = doctor("--questions", "9", "--device", "cpu")  # faster-whisper:tiny.en-bundled
    (line,) = [x for x in out.splitlines() if "run time" in x]
    assert f"run time ≈ {fw.seconds(['q09']) / 60:.0f} min" in line and fw.command in line
    assert "--asr faster-whisper:turbo" not in line
    rc, out = doctor("--questions", "1-4", "--device", "cpu", **openai)
    assert "faster-whisper" not in next(x for x in out.splitlines() if "run time" in x)  # no ASR in q01-q04


def test_a_question_without_a_measured_figure_is_said_not_measured(tmp_path, monkeypatch):
    """The estimate's questions are the bank's: a 13th question (a bank copy with one more spec) or a question the
    record lacks is "not measured" and left out of the time, never counted as 0 s in silence."""
    from checks.bench import measured
    from grader.spec import load_bank

    bank = tmp_path / "questions"
    shutil.copytree(ROOT / "questions", bank)
    q03 = (bank / "q03.yaml").read_text(encoding="utf-8")
    assert "points: '0.8'" in q03  # halved between q03 and its copy q13: the course's total stays
    (bank / "q03.yaml").write_text(q03.replace("points: '0.8'", "points: '0.4'"), encoding="utf-8")
    (bank / "q13.yaml").write_text(q03.replace("id: q03", "id: q13").replace("points: '0.8'", "points: '0.4'"),
                                   encoding="utf-8")
    record = measured.cpu_record(OFFLINE["--asr"])
    opts = KeyRunOptions(select="3,13", mimi=str(TINY), device="cpu", asr=OFFLINE["--asr"])
    (line,) = [f.text for f in examine(opts, load_bank(bank), steps=["estimate"])]
    assert f"run time ≈ {record.seconds(['q03']) / 60:.0f} min for 2 question(s)" in line
    assert "q13: not measured (no figure in checks/bench/measured.py; the time leaves it out)" in line

    partial = dataclasses.replace(record, question_s={q: s for q, s in record.question_s.items() if q != "q09"})
    monkeypatch.setattr(measured, "CPU_2_CORES_FASTER_WHISPER", partial)
    rc, out = doctor("--questions", "8-10", "--device", "cpu")
    (line,) = [x for x in out.splitlines() if "run time" in x]
    assert f"run time ≈ {partial.seconds(['q08', 'q10']) / 60:.0f} min for 3 question(s)" in line
    assert "q09: not measured" in line
    rc, out = doctor("--questions", "8-10", "--device", "cpu", **{"--asr": f"openai-whisper:{TINY / 'nope.pt'}"})
    assert "these questions took" in out and "(q09 not measured) at" in out  # the faster-whisper figure beside it


def test_the_asr_probe_is_the_registered_backends_own(tmp_path, monkeypatch):
    """A backend registered in checks/models/asr/registry.py's table (here a fake one, in this test only) is what the
    doctor probes, with the tools it lends (a local folder checked); its package missing is said with the row's install
    hint; an unknown backend is one line naming the registered ones."""
    from checks.models.asr import BackendRow, registry
    from checks.models.probe import ProbeLine

    seen = []

    def probe(spec, tools):
        seen.append((spec.model, tools.timeout))
        return [ProbeLine(f"fake-asr {spec.model} found"), *tools.local_folder(str(tmp_path / "absent"))]

    row = BackendRow(name="fake-asr", load=lambda spec, options: None, probe=probe,
                     forms=("fake-asr:NAME (a test's)",), package="json", install="pip install fake-asr")
    monkeypatch.setitem(registry.ASR_BACKENDS, "fake-asr", row)
    rc, out = doctor("--questions", "9", "--device", "cpu", "--timeout", "3", **{"--asr": "fake-asr:small"})
    assert seen == [("small", 3.0)] and "✓ models: ASR: fake-asr small found" in out
    (line,) = [p for p in problems(out) if "ASR" in p]
    assert rc == 1 and f"ASR: {tmp_path / 'absent'} is not a folder" in line

    monkeypatch.setitem(registry.ASR_BACKENDS, "fake-asr", dataclasses.replace(row, package="no_such_module_here"))
    (line,) = [p for p in problems(doctor("--questions", "9", "--device", "cpu", **{"--asr": "fake-asr:small"})[1])
               if "ASR" in p]
    assert "ASR: fake-asr is not installed — pip install fake-asr" in line

    rc, out = doctor("--questions", "9", "--device", "cpu", **{"--asr": "whisperx:large"})
    (line,) = [p for p in problems(out) if "ASR" in p]
    assert "unknown ASR backend 'whisperx'; the registered ones are faster-whisper, openai-whisper, fake-asr" in line
    assert "fake-asr:NAME (a test's)" in line and line.endswith("— fix --asr")



def test_the_estimate_on_a_gpu_is_the_h200_floor():
    """The one GPU run (an H200, 2026-12-04) is in checks/bench/measured.py: a run on cuda is estimated from it, as a
    floor (q06 on 30 clips, CSM's codec untrained), with the CPU figure beside it."""
    from checks.bench import measured

    gpu = measured.gpu_record()
    assert gpu is not None and gpu.device == "cuda" and "H200" in gpu.machine
    assert round(gpu.seconds([f"q{i:02d}" for i in range(1, 13)])) == 128 and gpu.peak_gb == 7.7
