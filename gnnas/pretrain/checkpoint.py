"""Atomic checkpoints of a pretraining run and the random-number-generator states they carry.

A checkpoint is one ``torch.save``'d dictionary: the controller's, optimizer's and scheduler's
state (``controller``, ``optimizer``, ``scheduler``, ``metric_loss``), the position (``iteration``;
``epoch``, ``step`` within it and the dataset's ``start_batch`` follow from it), the random states
of every process (``rng``, one per rank), ``config``, ``world_size`` and the ``log`` so far.
It is written with :func:`gnnas.files.save_torch`: atomically (a run killed while writing, or a
full disk, leaves the previous checkpoint intact) and with a ``checkpoint.pt.sha256`` checksum
beside it, which :func:`load_checkpoint` verifies before reading the file with
``torch.load(weights_only=True)``, so a damaged file is an error naming it and no file can run code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gnnas.files import DamagedFileError, load_torch, remove, save_torch

__all__ = [
    "CHECKPOINT_NAME",
    "RUN_FILES",
    "save_checkpoint",
    "load_checkpoint",
    "check_output_dir",
    "check_resumable",
    "clear_run",
    "rng_state",
    "set_rng_state",
]

#: File name of the latest checkpoint inside a run's output folder.
CHECKPOINT_NAME = "checkpoint.pt"

#: The files a pretraining run writes into its output folder (each with a ``.sha256`` beside it
#: where it is read back).
RUN_FILES: tuple[str, ...] = (CHECKPOINT_NAME, "log.jsonl", "config.json", "summary.json", "controller.pt")

#: The settings a resumed run may change: how long it runs.
_RESUMABLE_CHANGES = frozenset({"max_iterations", "epochs"})

#: The entries of a checkpoint and their types.
_ENTRIES: dict[str, type | tuple[type, ...]] = {
    "controller": dict, "optimizer": dict, "scheduler": dict, "iteration": int, "rng": list,
    "config": dict, "world_size": int, "log": list,
}


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Writes ``state`` to ``path`` atomically, with its checksum beside it.

    Args:
        state (dict): what to save (tensors and plain containers).
        path (str or os.PathLike): the destination file.

    Raises:
        gnnas.files.WriteError: if the file cannot be written (a full disk); the previous
            checkpoint is then intact.
    """
    save_torch(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a checkpoint written by :func:`save_checkpoint` onto the CPU, after checking it.

    Args:
        path (str or os.PathLike): the checkpoint file.

    Returns:
        dict: the saved state.

    Raises:
        FileNotFoundError: if there is no such file.
        gnnas.files.DamagedFileError: if the file does not match its checksum (truncated,
            damaged), has none, holds anything but tensors and plain containers (a checkpoint of an
            older gnnas), or is not a pretraining checkpoint.
    """
    state = load_torch(path)
    if not isinstance(state, dict):
        raise DamagedFileError(path, f"not a pretraining checkpoint (it holds a {type(state).__name__})")
    for key, kind in _ENTRIES.items():
        if not isinstance(state.get(key), kind):
            raise DamagedFileError(path, f"not a pretraining checkpoint (entry {key!r} is missing or "
                                   "of the wrong type)")
    return state


def check_output_dir(output_dir: str | os.PathLike, *, resume: bool, overwrite: bool) -> None:
    """Refuses to start a run that would destroy another one in ``output_dir``.

    Args:
        output_dir (str or os.PathLike): the run's folder.
        resume (bool): the run continues from the folder's checkpoint (a fresh start if it has
            none, unless the folder holds a finished run).
        overwrite (bool): the run replaces whatever run the folder holds.

    Raises:
        ValueError: if both ``resume`` and ``overwrite`` are set, if ``output_dir`` is not a
            folder, if it holds a run (any of :data:`RUN_FILES`) and neither is set, or if it
            holds a finished run's ``controller.pt`` but no checkpoint to resume from.
    """
    folder = Path(output_dir)
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: resume continues the run, "
                         "overwrite replaces it")
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{os.fspath(folder)} exists and is not a folder")
    found = [name for name in RUN_FILES if (folder / name).exists()]
    if found and not (resume or overwrite):
        raise ValueError(f"{os.fspath(folder)} already holds a pretraining run ({', '.join(found)}); "
                         "resume it (resume=True, --resume) or replace it (overwrite=True, --overwrite)")
    if resume and not (folder / CHECKPOINT_NAME).exists() and (folder / "controller.pt").exists():
        raise ValueError(f"{os.fspath(folder)} holds a finished run's controller.pt but no "
                         f"{CHECKPOINT_NAME} to resume from; replace it (overwrite=True, --overwrite)")


def clear_run(output_dir: str | os.PathLike) -> None:
    """Removes the files of :data:`RUN_FILES` (and their checksums) from ``output_dir``.

    Args:
        output_dir (str or os.PathLike): the run's folder; files it lacks are skipped.

    Raises:
        OSError: if a file exists but cannot be removed.
    """
    for name in RUN_FILES:
        remove(Path(output_dir) / name)


def check_resumable(saved: dict[str, Any], config: Any, world_size: int) -> None:
    """Checks that a checkpoint was written by a run with the same settings.

    Args:
        saved (dict): the checkpoint (:func:`load_checkpoint`).
        config (PretrainConfig): the settings of the run that wants to resume it.
        world_size (int): the number of processes of that run.

    Raises:
        ValueError: naming every setting (apart from ``max_iterations`` and ``epochs``, and the
            runtime settings) that differs from the checkpoint's, or the number of processes.
    """
    from gnnas.pretrain.config import PretrainConfig

    now = {k: v for k, v in config.result_dict().items() if k not in _RESUMABLE_CHANGES}
    before = {k: v for k, v in PretrainConfig.from_dict(saved["config"]).result_dict().items()
              if k not in _RESUMABLE_CHANGES}
    changed = sorted(k for k in now if now[k] != before.get(k))
    if changed:
        raise ValueError(
            f"cannot resume: settings {changed} differ from the checkpoint's "
            f"({ {k: before.get(k) for k in changed} } → { {k: now[k] for k in changed} })"
        )
    if saved["world_size"] != world_size:
        raise ValueError(
            f"cannot resume: the checkpoint was written by {saved['world_size']} processes, "
            f"this run has {world_size}"
        )


def rng_state() -> dict[str, Any]:
    """Returns the global torch random states, to be restored by :func:`set_rng_state`.

    Returns:
        dict: ``torch``, the CPU generator's state, and ``cuda``, a list of every CUDA device's,
        when CUDA is initialised.
    """
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores the global torch random states.

    Args:
        state (dict): what :func:`rng_state` returned (its ``cuda`` states are skipped where CUDA
            is not available).
    """
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
