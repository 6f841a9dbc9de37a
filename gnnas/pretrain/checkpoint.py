"""Atomic checkpoints of a pretraining run and the random-number-generator states they carry.

A checkpoint is one ``torch.save``'d dictionary: the controller's, optimizer's and scheduler's
state (``controller``, ``optimizer``, ``scheduler``, ``metric_loss``), the position (``iteration``;
``epoch``, ``step`` within it and the dataset's ``start_batch`` follow from it), the random states
of every process (``rng``, one per rank), ``config``, ``world_size`` and the ``log`` so far. It
is written to a temporary file in the same folder and moved over the old one with
:func:`os.replace`, so a run killed while writing leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state"]

#: File name of the latest checkpoint inside a run's output folder.
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Writes ``state`` to ``path`` atomically (temporary file + :func:`os.replace`).

    Args:
        state (dict): what to save.
        path (str or os.PathLike): the destination file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a checkpoint written by :func:`save_checkpoint` onto the CPU.

    Args:
        path (str or os.PathLike): the checkpoint file.

    Returns:
        dict: the saved state.

    Raises:
        FileNotFoundError: if there is no such file.
    """
    return torch.load(path, map_location="cpu", weights_only=False)


def rng_state() -> dict[str, Any]:
    """Returns the global torch random states (CPU, and every CUDA device when CUDA is initialised)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores states returned by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
