r"""The controllers of the paper's Table 1, pretrained as the paper did, shipped inside gnnas.

Each of the nine presets of :data:`~gnnas.pretrain.PRESET_NAMES` was pretrained once with the
paper's Table 2 settings (SGD, learning rate 1.0, ×0.2 at iteration 6,000, 2 epochs over the
423,624 cells of the space, 7 positives of at most 3 edits per anchor, the preset's loss, miner,
batch size and :math:`\lambda_e`) and seed 0, on a CPU. The package holds, per preset, in
``gnnas/data/pretrained/<preset>/``:

* ``controller.pt``: the controller (:meth:`~gnnas.nn.NAOController.save` format: plain tensors
  and JSON-like values only, loaded with ``weights_only=True``);
* ``log.npz``: the training log, one value per iteration for each field of
  :data:`~gnnas.pretrain.LOG_FIELDS` (float32; NaN where a field has no value);
* ``info.json``: the settings (:class:`~gnnas.pretrain.PretrainConfig`), the SHA-256 of both
  files, the training time, and the final reconstruction of 1,000 random cells of the space
  (:func:`~gnnas.pretrain.evaluate_reconstruction`).

:func:`~gnnas.pretrain.pretrained_controller` returns the shipped controller whenever it is asked
for exactly these settings; any other settings train and cache as before. Example::

    >>> from gnnas.pretrain import load_shipped, shipped_info, shipped_log, shipped_presets
    >>> "MarginLoss" in shipped_presets()
    True
    >>> controller = load_shipped("MarginLoss")                 # checked against its SHA-256
    >>> info = shipped_info("MarginLoss")
    >>> info["iterations"], sorted(info["reconstruction"])
    (13238, ['cell_acc', 'cells', 'decode_acc', 'seed', 'token_acc'])
    >>> shipped_log("MarginLoss")["token_acc"].shape            # one value per iteration
    (13238,)
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gnnas.pretrain.config import PretrainConfig
from gnnas.pretrain.presets import PRESET_NAMES, metric_loss_preset

__all__ = [
    "SHIPPED_SEED",
    "shipped_config",
    "shipped_presets",
    "shipped_info",
    "shipped_log",
    "load_shipped",
    "is_shipped",
    "shipped_folder",
    "write_shipped",
    "RECONSTRUCTION_CELLS",
    "RECONSTRUCTION_SEED",
]

#: The seed of every shipped run.
SHIPPED_SEED = 0

#: Number of random cells of the space on which each shipped controller's reconstruction is measured.
RECONSTRUCTION_CELLS = 1000

#: Seed of :meth:`~gnnas.space.CellSpace.sample` drawing those cells.
RECONSTRUCTION_SEED = 1

_CONTROLLER = "controller.pt"
_LOG = "log.npz"
_INFO = "info.json"


def shipped_config(preset: str) -> PretrainConfig:
    """Returns the settings the shipped controller of ``preset`` was trained with.

    Args:
        preset (str): a name from :data:`~gnnas.pretrain.PRESET_NAMES`.

    Returns:
        PretrainConfig: the paper's settings for ``preset``, seed :data:`SHIPPED_SEED`.

    Raises:
        ValueError: if ``preset`` is not a known preset.
    """
    metric_loss_preset(preset)  # the error names the known presets
    return PretrainConfig(loss=preset, seed=SHIPPED_SEED, progress=False)


def shipped_folder(preset: str, root: str | os.PathLike | None = None) -> Path:
    """Returns the folder that holds (or would hold) the shipped files of ``preset``.

    Args:
        preset (str): a name from :data:`~gnnas.pretrain.PRESET_NAMES`.
        root (str or os.PathLike, optional): a folder of preset folders instead of the package's.
            (default: :obj:`None`)

    Returns:
        pathlib.Path: ``<root>/<preset>``.

    Raises:
        ValueError: if ``preset`` is not a known preset.
    """
    metric_loss_preset(preset)
    if root is None:
        root = Path(str(resources.files("gnnas"))) / "data" / "pretrained"
    return Path(root) / preset


def shipped_presets(root: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Returns the presets whose pretrained controller is shipped, in the order of Table 3.

    Args:
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)

    Returns:
        tuple[str, ...]: the preset names with a complete folder.
    """
    return tuple(
        name for name in PRESET_NAMES
        if all((shipped_folder(name, root) / file).is_file() for file in (_CONTROLLER, _LOG, _INFO))
    )


def is_shipped(config: PretrainConfig, root: str | os.PathLike | None = None) -> bool:
    """Whether ``config`` asks for exactly the settings of a shipped controller.

    Settings that do not change the weights (device, logging, workers, progress) are ignored.

    Args:
        config (PretrainConfig): the settings.
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)

    Returns:
        bool: :obj:`True` when the controller for ``config`` ships with gnnas.
    """
    if config.loss not in PRESET_NAMES or config.loss not in shipped_presets(root):
        return False
    return config.result_dict() == shipped_config(config.loss).result_dict()


def _info_path(preset: str, root: str | os.PathLike | None) -> Path:
    folder = shipped_folder(preset, root)
    if not (folder / _INFO).is_file():
        raise ValueError(
            f"no shipped controller for {preset!r} in {folder}; shipped: {list(shipped_presets(root))}"
        )
    return folder / _INFO


def shipped_info(preset: str, root: str | os.PathLike | None = None) -> dict[str, Any]:
    """Returns the record of the shipped run of ``preset`` (its ``info.json``).

    Args:
        preset (str): a name from :func:`shipped_presets`.
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)

    Returns:
        dict: ``config`` (the :class:`PretrainConfig` settings), ``iterations``, ``seconds``,
        ``threads``, ``torch``, ``sha256`` (of each shipped file), ``reconstruction`` (``cells``,
        ``seed``, ``token_acc``, ``cell_acc``, ``decode_acc``) and ``log_fields``.

    Raises:
        ValueError: if ``preset`` is unknown or not shipped, or the file is not valid JSON.
    """
    path = _info_path(preset, root)
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a valid shipped-run record ({error})") from None


def _verified(path: Path, expected: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ValueError(
            f"{path}: SHA-256 {digest} does not match the recorded {expected}; the file is damaged"
        )
    return path


def shipped_log(preset: str, root: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Returns the training log of the shipped run of ``preset``, one array per field.

    Args:
        preset (str): a name from :func:`shipped_presets`.
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)

    Returns:
        dict[str, numpy.ndarray]: for each field of :data:`~gnnas.pretrain.LOG_FIELDS` that the
        run logged, its float32 values over the iterations (NaN where the field had no value,
        e.g. ``decode_acc`` between decoding checks).

    Raises:
        ValueError: if ``preset`` is unknown or not shipped, or the file is damaged.
    """
    info = shipped_info(preset, root)
    path = _verified(shipped_folder(preset, root) / _LOG, info["sha256"][_LOG])
    with np.load(path, allow_pickle=False) as columns:
        return {name: columns[name] for name in columns.files}


def load_shipped(preset: str, root: str | os.PathLike | None = None) -> Any:
    """Loads the shipped pretrained controller of ``preset``, after checking its SHA-256.

    Args:
        preset (str): a name from :func:`shipped_presets`.
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)

    Returns:
        NAOController: the controller, on the CPU, in eval mode.

    Raises:
        ValueError: if ``preset`` is unknown or not shipped, or the file is damaged.
    """
    from gnnas.nn import NAOController

    info = shipped_info(preset, root)
    path = shipped_folder(preset, root) / _CONTROLLER
    controller = NAOController.load(path, sha256=info["sha256"][_CONTROLLER])  # checked there
    controller.eval()
    return controller


def _log_columns(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    from gnnas.pretrain.trainer import LOG_FIELDS

    columns = {}
    for name in LOG_FIELDS:
        values = [record.get(name) for record in records]
        if all(value is None for value in values):
            continue
        columns[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float32)
    return columns


def _training_seconds(records: list[dict[str, Any]]) -> float:
    # "elapsed" restarts at 0 in a resumed process: add up the last value of each process.
    elapsed = [record["elapsed"] for record in records]
    return float(sum(a for a, b in zip(elapsed, elapsed[1:] + [0.0], strict=True) if b < a))


def write_shipped(
    run_folder: str | os.PathLike,
    root: str | os.PathLike | None = None,
    space: Any = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Turns a finished run of the paper's settings into a shipped folder (for maintainers).

    Reads ``config.json``, ``log.jsonl`` and ``controller.pt`` of a run written by
    :func:`~gnnas.pretrain.pretrain`, checks that its settings are :func:`shipped_config`'s and
    that it ran to the end, measures the reconstruction of :data:`RECONSTRUCTION_CELLS` random
    cells (seed :data:`RECONSTRUCTION_SEED`) and writes ``controller.pt``, ``log.npz`` and
    ``info.json`` into :func:`shipped_folder`.

    Args:
        run_folder (str or os.PathLike): the run's output folder.
        root (str or os.PathLike, optional): see :func:`shipped_folder`. (default: :obj:`None`)
        space (CellSpace, optional): the space to draw the evaluation cells from; :obj:`None`
            enumerates it. (default: :obj:`None`)
        overwrite (bool, optional): replace an existing shipped folder. (default: :obj:`False`)

    Returns:
        dict: the record written to ``info.json``.

    Raises:
        ValueError: if the run used other settings, did not finish, or would replace a shipped
            folder without ``overwrite``.
    """
    import torch

    from gnnas.files import checksum_path
    from gnnas.nn import NAOController

    run = Path(run_folder)
    saved = json.loads((run / "config.json").read_text())
    config = PretrainConfig.from_dict(saved["config"])
    expected = shipped_config(config.loss)
    if config.result_dict() != expected.result_dict():
        changed = sorted(k for k, v in config.result_dict().items() if expected.result_dict()[k] != v)
        raise ValueError(f"{run}: settings {changed} differ from the paper's; only those are shipped")
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    if len(records) != saved["total_iterations"] or not (run / _CONTROLLER).is_file():
        raise ValueError(
            f"{run}: the run did not finish ({len(records)} of {saved['total_iterations']} iterations logged)"
        )
    folder = shipped_folder(config.loss, root)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise ValueError(f"{folder} already holds a shipped controller; pass overwrite=True to replace it")
    if space is None:
        from gnnas.space import enumerate_cells

        space = enumerate_cells()
    from gnnas.pretrain.evaluation import evaluate_reconstruction

    controller = NAOController.load(run / _CONTROLLER)
    cells = space.sample(RECONSTRUCTION_CELLS, seed=RECONSTRUCTION_SEED)
    reconstruction = evaluate_reconstruction(controller, cells)
    folder.mkdir(parents=True, exist_ok=True)
    controller.save(folder / _CONTROLLER)
    # info.json records the SHA-256 of every shipped file: no checksum file beside the controller
    checksum_path(folder / _CONTROLLER).unlink(missing_ok=True)
    columns = _log_columns(records)
    np.savez_compressed(folder / _LOG, **columns)
    info = {
        "config": config.to_dict(),
        "iterations": len(records),
        "seconds": _training_seconds(records),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "reconstruction": {**reconstruction, "seed": RECONSTRUCTION_SEED},
        "final": {k: records[-1][k] for k in ("loss", "recon_loss", "metric_loss", "token_acc", "cell_acc")},
        "log_fields": sorted(columns),
        "sha256": {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in (_CONTROLLER, _LOG)
        },
    }
    (folder / _INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info
