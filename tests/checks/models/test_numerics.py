"""Deterministic float32 for a key run (TF32 off, recorded) and the CSM dtype policy per device."""
import pytest
import torch

from checks.models.csm import dtype_policy, resolve_dtype
from checks.models.numerics import FULL_PRECISION, full_precision, numerics_record
from grader.errors import InputError


@pytest.fixture
def loose_settings():
    """A caller's process with TF32 allowed everywhere (what cuDNN defaults to) and the autotuner on."""
    before = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
              torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("medium")
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = False
    yield
    (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32, precision,
     torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic) = before
    torch.set_float32_matmul_precision(precision)


def test_a_key_run_is_full_float32_and_gives_the_callers_settings_back(loose_settings):
    with full_precision() as settings:
        assert settings == FULL_PRECISION
        assert torch.backends.cudnn.allow_tf32 is False and torch.backends.cuda.matmul.allow_tf32 is False
        assert torch.get_float32_matmul_precision() == "highest" and torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.allow_tf32 is True and torch.get_float32_matmul_precision() == "medium"
    assert torch.backends.cudnn.benchmark is True and torch.backends.cudnn.deterministic is False


def test_settings_come_back_after_an_error(loose_settings):
    with pytest.raises(RuntimeError), full_precision():
        raise RuntimeError("a check failed")
    assert torch.backends.cudnn.allow_tf32 is True


def test_the_provenance_says_what_was_used():
    rec = numerics_record(dict(FULL_PRECISION))
    assert rec["settings"]["cudnn_allow_tf32"] is False and "TF32 off" in rec["why"]
    assert "torch is not installed" in numerics_record(None)["settings"]


@pytest.mark.parametrize("name, device, bf16, want", [
    ("auto", "cpu", False, "float32"),
    ("auto", "cuda", True, "bfloat16"),      # an A100/H100: csm-1b's own dtype
    ("auto", "cuda", False, "float32"),      # a Colab T4: no native bfloat16
    ("auto", "cuda:1", False, "float32"),
    ("float16", "cuda", False, "float16"),
    ("float32", "cuda", True, "float32"),
    ("bfloat16", "cpu", False, "bfloat16"),  # asked for explicitly, on the CPU (emulated, slow, but allowed)
])
def test_csm_dtype_policy_per_device(name, device, bf16, want):
    got = resolve_dtype(name, device, bf16_ok=bf16)
    assert got == want
    assert dtype_policy(name, device, got)


def test_bfloat16_is_refused_on_a_gpu_without_it():
    with pytest.raises(InputError, match="no native bfloat16"):
        resolve_dtype("bfloat16", "cuda", bf16_ok=False)
    with pytest.raises(InputError, match="choose one of"):
        resolve_dtype("int8", "cpu")


@pytest.mark.slow
def test_mimi_decodes_in_another_dtype_on_a_copy_and_stays_as_it_was(one_torch_thread):
    """q12 compares CSM's bfloat16 decode with the standalone Mimi's: Mimi decodes in CSM's dtype on a copy."""
    import copy

    from checks.models.mimi import MimiSource, load_mimi, reset_codebook_caches

    codec = load_mimi(MimiSource(ref="architecture", device="cpu"))
    codes = torch.randint(0, 2048, (1, 8, 6))
    same = codec.decode_as(codes, "float32")
    assert (same == codec.decode(codes)).all()
    bf16 = codec.decode_as(codes, "bfloat16")
    cast = copy.deepcopy(codec.model).to(torch.bfloat16)
    reset_codebook_caches(cast)  # the float32 tables cached by the decodes above would be stale
    with torch.inference_mode():
        want = cast.decode(codes).audio_values[:, 0].float().numpy()
    assert (bf16 == want).all() and not (bf16 == same).all()
    assert codec.dtype == torch.float32 and next(codec.model.parameters()).dtype == torch.float32
