"""Bad model sources and bad `hw10 key` arguments: each one clear message, never a traceback."""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checks.models.hub import ModelUnavailable
from checks.models.mimi import MimiSource, load_mimi
from hw10.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "fixtures" / "tiny_mimi"
ASSETS = ROOT / "fixtures" / "assets"


def run_key(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["key", *argv])
    return rc, out.getvalue(), err.getvalue()


def _hub_error(cls, message="refused"):
    err = cls.__new__(cls)  # the hub's HTTP errors want a live response object; the type is what matters
    Exception.__init__(err, message)
    return err


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "model"
    d.mkdir()
    return d


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "not a Mimi checkpoint: no config.json"),
    (lambda d: (d / "config.json").write_text('{"model_type": "bert"}'), "model_type is 'bert', expected 'mimi'"),
    (lambda d: (d / "config.json").write_text("[1, 2"), "config.json is not a JSON object"),
    (lambda d: shutil.copy(TINY / "config.json", d / "config.json"), "Mimi config but no weights"),
])
def test_a_folder_that_is_not_a_mimi_checkpoint(folder, tmp_path, setup, message):
    setup(folder)
    rc, out, err = run_key("--questions", "3", "--mimi", str(folder), "--out", str(tmp_path / "k.yaml"))
    assert rc == 2 and message in err and str(folder) in err
    assert "save_pretrained" in err and "Traceback" not in err
    assert not (tmp_path / "k.yaml").exists()


def test_a_path_that_does_not_exist(tmp_path):
    rc, _, err = run_key("--questions", "3", "--mimi", str(tmp_path / "nope"), "--out", str(tmp_path / "k.yaml"))
    assert rc == 2 and "no such folder" in err


@pytest.mark.slow
def test_corrupt_weights_make_the_questions_pending_with_one_message(folder, tmp_path):
    shutil.copy(TINY / "config.json", folder / "config.json")
    (folder / "model.safetensors").write_bytes(b"\x00garbage" * 100)
    key = tmp_path / "k.yaml"
    rc, out, err = run_key("--questions", "3,4", "--mimi", str(folder), "--device", "cpu", "--assets", str(ASSETS),
                           "--out", str(key))
    assert rc == 0 and err.count("error: mimi unavailable") == 1 and "cannot load as Mimi" in err
    assert out.count("model unavailable (see the error message)") == 2
    answers = yaml.safe_load(key.read_text())["answers"]
    assert answers["q03"]["status"] == "pending" and "cannot load as Mimi" in answers["q03"]["reason"]


@pytest.mark.slow
def test_a_checkpoint_missing_weights_is_refused_not_randomly_filled(folder):
    from safetensors.torch import load_file, save_file

    shutil.copy(TINY / "config.json", folder / "config.json")
    tensors = load_file(str(TINY / "model.safetensors"))
    save_file({k: v for k, v in tensors.items() if "quantizer" not in k}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(ModelUnavailable) as err:
        load_mimi(MimiSource(str(folder), device="cpu"))
    assert "lacks" in str(err.value) and "codebook" in str(err.value)


@pytest.mark.parametrize("error, message", [
    ("GatedRepoError", "is gated: accept its terms"),
    ("RepositoryNotFoundError", "no model 'someone/mimi' on the Hugging Face Hub"),
    ("RevisionNotFoundError", "revision 'v9' of someone/mimi does not exist"),
])
def test_hub_answers_become_clear_messages(monkeypatch, error, message):
    import huggingface_hub
    from huggingface_hub import errors as hf_errors

    def refuse(self, *a, **k):
        raise _hub_error(getattr(hf_errors, error))

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", refuse)
    with pytest.raises(ModelUnavailable) as err:
        load_mimi(MimiSource("someone/mimi", revision="v9", device="cpu"))
    assert message in str(err.value)


@pytest.mark.slow
def test_an_unreachable_hub_is_one_clear_message(tmp_path):
    """The real CLI in a fresh process, with the Hub pointed at a closed port and an empty cache: `hw10 key` stops
    before loading anything (its doctor checks run first), with one line naming the endpoint and the way out, and
    writes no key."""
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf"),
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)
    key = tmp_path / "k.yaml"
    res = subprocess.run([sys.executable, "-m", "hw10.cli", "key", "--questions", "3", "--mimi", "kyutai/mimi",
                          "--device", "cpu", "--out", str(key)], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "Retrying" not in res.stderr
    assert "the run cannot go" in res.stderr and "Mimi: cannot reach http://127.0.0.1:9" in res.stderr
    for advice in ("--mimi PATH", "hf download", "--questions"):
        assert advice in res.stderr
    assert not key.exists()


@pytest.mark.parametrize("argv, message", [
    (["--questions", "1-5,13"], "there is no question 13"),
    (["--questions", "one"], "'one' is not a question number"),
    (["--mimi", "architecture", "--mimi-revision", "main"], "--mimi-revision: applies to a Hub id"),
    (["--assets", "/nonexistent/assets"], "assets folder not found"),
    (["--device", "tpu"], "--device 'tpu': choose auto, cpu or cuda"),
])
def test_bad_arguments_exit_2(tmp_path, argv, message):
    rc, out, err = run_key(*argv, "--out", str(tmp_path / "k.yaml"))
    assert rc == 2 and message in err and "Traceback" not in err
    assert "will be pending" not in out  # refused before the manifest promises anything


def test_cuda_without_a_gpu_exits_2(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    rc, _, err = run_key("--questions", "3", "--mimi", "architecture", "--device", "cuda",
                         "--out", str(tmp_path / "k.yaml"))
    assert rc == 2 and "sees no CUDA GPU" in err and "--device cpu" in err


def test_dtype_is_validated_by_the_parser(tmp_path):
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(io.StringIO()):
        main(["key", "--dtype", "int8", "--out", str(tmp_path / "k.yaml")])
    assert exc.value.code == 2


def test_tiny_folder_in_bfloat16_still_loads(tmp_path):
    codec = load_mimi(MimiSource(str(TINY), device="cpu", dtype="bfloat16"))
    assert str(codec.dtype) == "torch.bfloat16" and codec.info.dtype == "bfloat16"
    assert json.loads((TINY / "config.json").read_text())["model_type"] == "mimi"
