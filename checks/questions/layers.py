"""Layer surgery on Mimi codes ``[batch, layers, frames]``: reading q09's shuffled file safely, the
layer-order convention and all orders of it (q09), and the Alice/James layer splits (q10).

**Order convention (defined here, once).** The homework made its file with::

    perm = torch.randperm(4)                          # e.g. perm = [2, 0, 3, 1]
    shuffled = audio_tokens.index_select(1, perm)     # shuffled[:, i] = audio_tokens[:, perm[i]]

A *guess* ``g`` (what the Colab's ``decode_audio_with_guess(your_ans)`` takes) is the list of
shuffled rows that, read in order, give layers 0, 1, 2, 3: ``shuffled.index_select(1, g)`` is
``audio_tokens``. Since ``shuffled[:, g[j]] = audio_tokens[:, perm[g[j]]]`` must be layer ``j``,
``perm[g[j]] = j``: the right guess is the inverse permutation of ``perm`` (``g = argsort(perm)``),
and ``perm = argsort(g)``. For the slide's example ``perm = [2, 0, 3, 1]`` the shuffled rows are
``[L2, L0, L3, L1]`` and the guess is ``[1, 3, 0, 2]``. Only for a permutation that is its own
inverse (e.g. a swap of two layers) are ``perm`` and the guess the same list.

torch is imported inside the functions; importing this module is cheap.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from grader.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import torch

Order = tuple[int, ...]
"""A guess: shuffled rows that, read in this order, are layers 0, 1, … (see the module docstring)."""


class CodesFileError(InputError):
    """A codes file (q09's ``audio_codes_shuffled.pt``) that is not what the homework saved; names the file."""


@dataclass(frozen=True)
class CodesFile:
    """A validated codes file."""

    codes: "torch.Tensor"
    """int64 ``[1, layers, T]`` on the CPU, every value in ``[0, codebook_size)``."""
    stored_dtype: str
    """The integer dtype the file held (e.g. ``torch.int64``), before conversion to int64."""


# ----------------------------------------------------------------------------- q09: the codes file


def load_codes_file(path: Path | str, n_layers: int, codebook_size: int) -> CodesFile:
    """Read a ``torch.save``d code tensor without executing pickled code and validate it.

    ``torch.load(..., weights_only=True)`` unpickles tensors and plain containers only; the result
    must be a plain integer tensor of shape ``[1, n_layers, T]`` (T ≥ 1) with every value in
    ``[0, codebook_size)``. Returns it as int64 on the CPU (with the dtype it was stored in); anything
    else is a :class:`CodesFileError` naming the file and what was found."""
    import pickle

    import torch

    p = Path(path)
    if not p.is_file():
        raise CodesFileError("file not found" if not p.exists() else "not a file", file=str(p))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CodesFileError("refused: the pickle holds something other than tensors and plain containers "
                             f"(torch.load with weights_only=True: {_unpickler_reason(exc)}); expected the tensor "
                             "saved by torch.save(audio_tokens_shuffled, ...)", file=str(p)) from None
    except Exception as exc:  # torch.load raises KeyError, EOFError, RuntimeError, BadZipFile … on non-torch files
        raise CodesFileError(f"not a torch.save file ({type(exc).__name__}: {_first_line(exc)})", file=str(p)) from None
    codes = validate_codes(obj, str(p), n_layers, codebook_size)
    return CodesFile(codes, str(obj.dtype))


def validate_codes(obj: object, label: str, n_layers: int, codebook_size: int) -> "torch.Tensor":
    """``obj`` as int64 ``[1, n_layers, T]`` codes, or a :class:`CodesFileError` naming ``label``."""
    import torch

    if not isinstance(obj, torch.Tensor):
        raise CodesFileError(f"holds a {type(obj).__name__}, not a tensor; expected the [1, {n_layers}, T] integer "
                             "tensor saved by torch.save(audio_tokens_shuffled, ...)", file=label)
    x = obj.detach()
    if x.layout != torch.strided:
        raise CodesFileError(f"holds a {x.layout} tensor; expected a dense integer tensor", file=label)
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise CodesFileError(f"holds {x.dtype} values; Mimi codes are integers (codebook indices)", file=label)
    if x.ndim != 3 or x.shape[0] != 1 or x.shape[1] != n_layers or x.shape[2] < 1:
        raise CodesFileError(f"has shape {list(x.shape)}; expected [1, {n_layers}, T] (batch, layers, frames) "
                             "with T ≥ 1", file=label)
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi >= codebook_size:
        bad = int(((x < 0) | (x >= codebook_size)).sum())
        raise CodesFileError(f"{bad} values outside 0…{codebook_size - 1} (min {lo}, max {hi}); "
                             "these are not Mimi codes", file=label)
    return x.to(torch.int64).contiguous()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"


def _unpickler_reason(exc: BaseException) -> str:
    """The informative part of torch's weights-only refusal (e.g. ``Unsupported global: GLOBAL x.Foo …``)."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        tail = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation", 1)[0]
        reason = " ".join(tail.split())
        if reason:
            return reason[:200]
    return _first_line(exc)


# ----------------------------------------------------------------------------- q09: orders


def all_orders(n_layers: int) -> list[Order]:
    """Every guess for ``n_layers`` layers (``n!`` of them), in lexicographic order; the identity first."""
    if n_layers < 1:
        raise ValueError(f"need at least one layer, not {n_layers}")
    return list(itertools.permutations(range(n_layers)))


def inverse_permutation(p: Sequence[int]) -> Order:
    """``q`` with ``q[p[i]] = i``: the guess undoing the homework's ``perm`` (and the ``perm`` a guess undoes)."""
    p = [int(v) for v in p]
    if sorted(p) != list(range(len(p))):
        raise ValueError(f"{p} is not a permutation of 0…{len(p) - 1}")
    q = [0] * len(p)
    for i, v in enumerate(p):
        q[v] = i
    return tuple(q)


def shuffle_layers(codes: "torch.Tensor", perm: Sequence[int]) -> "torch.Tensor":
    """What the homework did: ``codes.index_select(1, perm)`` (for fixtures and tests)."""
    import torch

    return codes.index_select(1, torch.as_tensor(list(perm), dtype=torch.long, device=codes.device))


def apply_order(shuffled: "torch.Tensor", guess: Sequence[int]) -> "torch.Tensor":
    """The shuffled codes' rows ``guess`` read in order: layers 0, 1, … when ``guess`` is right."""
    import torch

    if sorted(int(v) for v in guess) != list(range(shuffled.shape[1])):
        raise ValueError(f"guess {list(guess)} is not a permutation of the {shuffled.shape[1]} layers")
    return shuffled.index_select(1, torch.as_tensor(list(guess), dtype=torch.long, device=shuffled.device))


def orders_batch(shuffled: "torch.Tensor", orders: Sequence[Sequence[int]]) -> "torch.Tensor":
    """``[len(orders), layers, T]``: row ``i`` is ``apply_order(shuffled, orders[i])`` (shuffled is ``[1, L, T]``)."""
    import torch

    if shuffled.ndim != 3 or shuffled.shape[0] != 1:
        raise ValueError(f"expected codes [1, layers, T], got {list(shuffled.shape)}")
    return torch.cat([apply_order(shuffled, g) for g in orders], dim=0)


def order_text(order: Sequence[int]) -> str:
    """``[1, 3, 0, 2]`` → ``"1302"`` (for plot labels and file names; layers < 10)."""
    return "".join(str(int(v)) for v in order)


# ----------------------------------------------------------------------------- q10: splits


def split_codes(first: "torch.Tensor", second: "torch.Tensor", k: int) -> "torch.Tensor":
    """Layers ``[0, k)`` from ``first`` and ``[k, L)`` from ``second`` (both ``[B, L, T]`` of one shape).

    For q10, ``first`` is Alice and ``second`` James: ``k = 0`` is pure James, ``k = L`` pure Alice."""
    import torch

    if first.shape != second.shape:
        raise ValueError(f"codes to splice differ in shape: {list(first.shape)} vs {list(second.shape)}")
    n = first.shape[1]
    if not 0 <= k <= n:
        raise ValueError(f"split index {k} outside 0…{n}")
    return torch.cat([first[:, :k], second[:, k:]], dim=1)


def all_splits(first: "torch.Tensor", second: "torch.Tensor") -> "torch.Tensor":
    """``[L + 1, L, T]`` from two ``[1, L, T]`` codes: row ``k`` is :func:`split_codes` at ``k``."""
    import torch

    if first.ndim != 3 or first.shape[0] != 1:
        raise ValueError(f"expected codes [1, layers, T], got {list(first.shape)}")
    return torch.cat([split_codes(first, second, k) for k in range(first.shape[1] + 1)], dim=0)
