"""A pretrained controller, trained once and cached on disk, for search and the benchmarks.

Example::

    >>> from gnnas.pretrain import pretrained_controller
    >>> controller = pretrained_controller("MarginLoss")    # the paper's settings: shipped, loaded
    >>> controller = pretrained_controller("MarginLoss", iterations=2000, seed=0)  # doctest: +SKIP

Where the settings are the paper's (the default ``iterations=None`` and ``seed=0``), the controller
ships with gnnas (:mod:`gnnas.pretrain.shipped`) and is loaded in about a second. Otherwise the
first call trains (see :func:`~gnnas.pretrain.pretrain`) in a folder of the gnnas cache named
after the settings; later calls with the same settings load ``controller.pt`` from there. A call
killed while training resumes from the folder's last checkpoint the next time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from gnnas.pretrain.config import PretrainConfig

__all__ = ["pretrained_controller", "pretrained_folder", "cache_root", "cache_key"]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Returns the folder under which pretrained controllers are cached.

    Args:
        cache_dir (str or os.PathLike, optional): the folder to use. (default: :obj:`None`, the
            gnnas cache folder, :func:`gnnas.space.resolve_cache_dir`)

    Returns:
        pathlib.Path: ``cache_dir`` with ``~`` expanded, else the gnnas cache folder.

    Raises:
        ValueError: if ``cache_dir`` is an empty string.
    """
    from gnnas.space import resolve_cache_dir

    return resolve_cache_dir(cache_dir)


def cache_key(config: PretrainConfig, extra: dict[str, Any] | None = None) -> str:
    """A short hash of the settings that determine the trained weights (and of ``extra``).

    Args:
        config (PretrainConfig): the settings; only :meth:`PretrainConfig.result_dict` counts.
        extra (dict, optional): more JSON-ready values that the weights depend on.
            (default: :obj:`None`)

    Returns:
        str: 16 hex digits of the SHA-256 of the settings, ``extra`` and the gnnas version.
    """
    from gnnas import __version__

    payload = {"config": config.result_dict(), "extra": extra or {}, "gnnas": __version__}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def pretrained_folder(
    config: PretrainConfig, cache_dir: str | os.PathLike | None = None, cells_key: str | None = None
) -> Path:
    """Returns the folder in which :func:`pretrained_controller` trains and caches ``config``.

    Args:
        config (PretrainConfig): the pretraining settings.
        cache_dir (str or os.PathLike, optional): the cache folder; :obj:`None` takes
            :func:`cache_root`. (default: :obj:`None`)
        cells_key (str, optional): the name of a custom anchor set, part of the key.
            (default: :obj:`None`)

    Returns:
        pathlib.Path: ``<cache>/pretrain/<loss>-<key>`` (:func:`cache_key`).
    """
    return cache_root(cache_dir) / "pretrain" / f"{config.loss}-{cache_key(config, {'cells': cells_key})}"


def pretrained_controller(
    preset: str = "MarginLoss",
    iterations: int | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    config: PretrainConfig | None = None,
    cells: Any = None,
    cells_key: str | None = None,
    progress: bool = True,
    **overrides: Any,
) -> Any:
    """Returns a controller pretrained with ``preset``, training it only when it is not cached.

    Args:
        preset (str, optional): a loss preset name (see :data:`~gnnas.pretrain.PRESET_NAMES`).
            (default: :obj:`"MarginLoss"`)
        iterations (int, optional): stop after this many iterations; :obj:`None` trains the
            paper's 2 epochs. (default: :obj:`None`)
        seed (int, optional): the seed of the run. (default: :obj:`0`)
        cache_dir (str or os.PathLike, optional): the cache folder; :obj:`None` takes
            :func:`cache_root`. (default: :obj:`None`)
        config (PretrainConfig, optional): full settings instead of ``preset``, ``iterations`` and
            ``seed`` (which must then be left at their defaults). (default: :obj:`None`)
        cells (Iterable[ArchSpec], optional): anchors instead of the whole space; then
            ``cells_key`` must name them (it enters the cache key). (default: :obj:`None`)
        cells_key (str, optional): a name for ``cells``. (default: :obj:`None`)
        progress (bool, optional): show the progress bar while training. (default: :obj:`True`)
        **overrides: other :class:`PretrainConfig` settings, e.g. ``optimizer="adam", lr=1e-3``,
            which reaches token accuracy 0.999 and about 97% of cells reconstructed exactly in
            1,500 iterations where the paper's SGD (lr 1.0) is still near 0.8 token accuracy
            after 1,000 (see the README's "Pretraining" figures).

    Returns:
        NAOController: the pretrained controller, on the CPU, in eval mode: the shipped one
        (:func:`~gnnas.pretrain.load_shipped`) when the settings are the paper's and ``cells`` is
        :obj:`None`, else the cached or newly trained one.

    Raises:
        ValueError: on an unknown preset or settings out of range, on ``config`` together with
            ``preset``/``iterations``/``seed`` values or ``overrides``, or on ``cells`` without
            ``cells_key``.
    """
    from gnnas.nn import NAOController
    from gnnas.pretrain.trainer import pretrain

    if config is None:
        config = PretrainConfig(loss=preset, max_iterations=iterations, seed=seed, progress=progress,
                                **overrides)
    elif (preset, iterations, seed) != ("MarginLoss", None, 0) or overrides:
        raise ValueError("pass either config or preset/iterations/seed/settings, not both")
    if cells is not None and not cells_key:
        raise ValueError("cells needs a cells_key naming them (it is part of the cache key)")
    if cells is None:
        from gnnas.pretrain.shipped import is_shipped, load_shipped

        if is_shipped(config):
            return load_shipped(config.loss)
    folder = pretrained_folder(config, cache_dir, cells_key)
    final = folder / "controller.pt"
    if not final.exists():
        pretrain(config, cells=cells, output_dir=folder, resume=True)
    controller = NAOController.load(final)
    controller.eval()
    return controller
