r"""Figures of the locality analysis: kernel density "violins" per edit distance, 2-D embedding maps.

The paper draws Fig. 1b and 1c as kernel density estimates of a value (the absolute accuracy
difference, the cosine similarity) for each edit distance. :func:`kde_violins` draws one density
per distance, mirrored around the distance (a violin), or as one half of a violin so that two
models share an axis (``side="left"`` and ``side="right"``). Densities come from
:class:`scipy.stats.gaussian_kde` (Scott's rule), each scaled to the same maximum width; the median is marked.

:func:`project_2d` maps embeddings to the plane for Fig. 2: with UMAP when ``umap-learn`` is
installed (the paper's settings: euclidean metric, ``min_dist=0.5``, 32 neighbours), else with PCA
(a centred SVD, deterministic up to the sign of each axis, which is fixed here).

:func:`pretraining_curves` draws the paper's Fig. 3 from training logs (for example
:func:`gnnas.pretrain.shipped_log`): reconstruction loss, metric loss and decoding accuracy against
the graphs seen, one line per run.

All functions draw into a given :class:`matplotlib.axes.Axes` and import matplotlib lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "kde_violins", "distance_histogram", "project_2d", "embedding_map", "pretraining_curves",
    "moving_average", "PRETRAINING_PANELS",
]


def _density(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE of ``values`` on ``grid``; a spike of the right mass when the values are constant."""
    if len(values) >= 2 and np.ptp(values) > 0:
        return stats.gaussian_kde(values)(grid)
    width = (grid[-1] - grid[0]) / 50 or 1.0
    return np.exp(-0.5 * ((grid - values.mean()) / width) ** 2)


def kde_violins(
    ax: Axes,
    groups: Mapping[int, np.ndarray],
    *,
    side: str = "both",
    color: str = "C0",
    label: str | None = None,
    width: float = 0.8,
    limits: tuple[float, float] | None = None,
    min_count: int = 2,
) -> None:
    """Draws a kernel density estimate of each group's values as a violin at ``x = key``.

    Args:
        ax (matplotlib.axes.Axes): where to draw.
        groups (Mapping[int, numpy.ndarray]): the values of each distance.
        side (str, optional): ``"both"`` for full violins, ``"left"`` or ``"right"`` for one half.
            (default: :obj:`"both"`)
        color (str, optional): the fill colour. (default: :obj:`"C0"`)
        label (str, optional): legend label. (default: :obj:`None`)
        width (float, optional): the widest violin's full width in x units. (default: :obj:`0.8`)
        limits (tuple[float, float], optional): the value range of the densities; :obj:`None`
            takes the range of all values. (default: :obj:`None`)
        min_count (int, optional): groups with fewer values are skipped. (default: :obj:`2`)

    Raises:
        ValueError: if ``side`` is unknown.
    """
    if side not in ("both", "left", "right"):
        raise ValueError(f"side must be 'both', 'left' or 'right', got {side!r}")
    kept = {d: np.asarray(v, dtype=float) for d, v in groups.items() if len(v) >= min_count}
    if not kept:
        return
    if limits is None:
        every = np.concatenate(list(kept.values()))
        limits = (float(every.min()), float(every.max()))
    grid = np.linspace(limits[0], limits[1], 256)
    half = width / 2
    for n, (d, values) in enumerate(sorted(kept.items())):
        values = values[(values >= limits[0]) & (values <= limits[1])]
        if len(values) == 0:
            continue
        density = _density(values, grid)
        density = density / density.max() * half
        left = d - density if side in ("both", "left") else np.full_like(density, d)
        right = d + density if side in ("both", "right") else np.full_like(density, d)
        ax.fill_betweenx(grid, left, right, color=color, alpha=0.55, linewidth=0.6,
                         edgecolor=color, label=label if n == 0 else None)
        median = float(np.median(values))
        x0 = d - half * 0.5 if side in ("both", "left") else d
        x1 = d + half * 0.5 if side in ("both", "right") else d
        ax.plot([x0, x1], [median, median], color="black", linewidth=1.2)


def distance_histogram(
    ax: Axes, distances: np.ndarray, *, color: str = "C0", label: str | None = None
) -> None:
    """Draws the share of pairs at each integer distance as bars (the paper's Fig. 1a).

    Args:
        ax (matplotlib.axes.Axes): where to draw.
        distances (numpy.ndarray): integer distances of the pairs, ``(P,)``.
        color (str, optional): bar colour. (default: :obj:`"C0"`)
        label (str, optional): legend label. (default: :obj:`None`)
    """
    distances = np.asarray(distances, dtype=np.int64)
    counts = np.bincount(distances)
    share = counts / max(1, len(distances))
    ax.bar(np.arange(len(counts)), share, color=color, alpha=0.8, label=label)
    ax.set_xticks(np.arange(len(counts)))


def project_2d(
    points: np.ndarray, method: str = "auto", *, seed: int | None = 0
) -> tuple[np.ndarray, str]:
    """Projects points to 2-D, with UMAP when installed, else PCA.

    Args:
        points (numpy.ndarray): ``(N, D)`` embeddings, ``N >= 3``.
        method (str, optional): ``"umap"``, ``"pca"``, or ``"auto"`` (UMAP if ``umap-learn`` is
            importable, else PCA). (default: :obj:`"auto"`)
        seed (int, optional): UMAP's ``random_state``. (default: :obj:`0`)

    Returns:
        tuple[numpy.ndarray, str]: the ``(N, 2)`` coordinates and the method used.

    Raises:
        ValueError: if ``method`` is unknown, the points are not ``(N, D)`` with ``N >= 3``, or
            ``method="umap"`` and ``umap-learn`` is not installed.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < 3:
        raise ValueError(f"points must have shape (N, D) with N >= 3, got {points.shape}")
    if method not in ("auto", "umap", "pca"):
        raise ValueError(f"method must be 'auto', 'umap' or 'pca', got {method!r}")
    if method in ("auto", "umap"):
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            if method == "umap":
                raise ValueError("method='umap' needs the umap-learn package (pip install umap-learn)") \
                    from None
        else:
            reducer = umap.UMAP(n_neighbors=min(32, len(points) - 1), min_dist=0.5, metric="euclidean",
                                random_state=seed)
            return np.asarray(reducer.fit_transform(points)), "umap"
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:  # D == 1
        coords = np.concatenate([coords, np.zeros((len(coords), 2 - coords.shape[1]))], axis=1)
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), np.arange(2)])  # largest entry positive
    return coords * np.where(signs == 0, 1.0, signs), "pca"


def embedding_map(
    ax: Axes, coords: np.ndarray, classes: np.ndarray, *, is_anchor: np.ndarray | None = None, **kwargs: Any
) -> None:
    """Scatters 2-D points coloured by class (the paper's Fig. 2); anchors drawn as stars.

    Args:
        ax (matplotlib.axes.Axes): where to draw.
        coords (numpy.ndarray): ``(N, 2)`` coordinates.
        classes (numpy.ndarray): ``(N,)`` integer class (anchor) of each point.
        is_anchor (numpy.ndarray, optional): ``(N,)`` bool, which points are the anchors.
            (default: :obj:`None`)
        **kwargs: passed to :meth:`matplotlib.axes.Axes.scatter`.
    """
    import matplotlib.pyplot as plt

    classes = np.asarray(classes)
    cmap = plt.get_cmap("tab20")
    colors = cmap(np.unique(classes, return_inverse=True)[1] % 20)
    anchor = np.zeros(len(coords), dtype=bool) if is_anchor is None else np.asarray(is_anchor, dtype=bool)
    ax.scatter(coords[~anchor, 0], coords[~anchor, 1], c=colors[~anchor], s=18, alpha=0.85, **kwargs)
    if anchor.any():
        ax.scatter(coords[anchor, 0], coords[anchor, 1], c=colors[anchor], s=90, marker="*",
                   edgecolors="black", linewidths=0.5, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


#: The panels of :func:`pretraining_curves`: log field and title.
PRETRAINING_PANELS: tuple[tuple[str, str], ...] = (
    ("recon_loss", "reconstruction loss (NLL per token)"),
    ("metric_loss", "metric loss"),
    ("token_acc", "token accuracy (teacher forcing)"),
    ("cell_acc", "cells whose 27 tokens are all right"),
)


def moving_average(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last ``window`` finite values, at each position where the window is full.

    Args:
        values (numpy.ndarray): a 1-D series; NaN entries are left out.
        window (int): the window length (shortened to the number of finite values).

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: the 1-based positions (in ``values``) of the windows'
        last entries, and the means.

    Raises:
        ValueError: if ``window`` is not a positive integer.
    """
    if not isinstance(window, (int, np.integer)) or window <= 0:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    values = np.asarray(values, dtype=float)
    where = np.flatnonzero(np.isfinite(values))
    if len(where) == 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    window = min(int(window), len(where))
    means = np.convolve(values[where], np.ones(window) / window, mode="valid")
    return where[window - 1:] + 1, means


def pretraining_curves(
    axes: Any,
    logs: Mapping[str, Mapping[str, np.ndarray]],
    batch_sizes: Mapping[str, int],
    *,
    window_graphs: int = 512 * 50,
) -> None:
    """Draws the paper's Fig. 3: the training curves of several pretraining runs, one line each.

    The x axis counts graphs seen in units of 512 (iterations at the paper's main batch size), so
    runs with batches of 64 or 256 graphs line up with the others; each curve is a moving average
    over ``window_graphs`` graphs. ``decode_acc`` (greedy decoding, logged every few iterations),
    when present, is drawn as markers on the last panel.

    Args:
        axes (Sequence[matplotlib.axes.Axes]): one axis per panel of :data:`PRETRAINING_PANELS`.
        logs (Mapping[str, Mapping[str, numpy.ndarray]]): for each run name, its log columns
            (``iteration`` and the fields of the panels; a missing field is skipped).
        batch_sizes (Mapping[str, int]): each run's graphs per iteration.
        window_graphs (int, optional): the smoothing window in graphs. (default: :obj:`25600`)

    Raises:
        ValueError: if ``axes`` does not have one axis per panel or a run has no batch size.
    """
    if len(axes) != len(PRETRAINING_PANELS):
        raise ValueError(f"expected {len(PRETRAINING_PANELS)} axes, got {len(axes)}")
    for index, (name, log) in enumerate(logs.items()):
        if name not in batch_sizes:
            raise ValueError(f"no batch size for run {name!r}")
        scale = batch_sizes[name] / 512
        window = max(1, round(window_graphs / batch_sizes[name]))
        color = f"C{index % 10}"
        for axis, (field, _) in zip(axes, PRETRAINING_PANELS, strict=True):
            if field in log:
                x, y = moving_average(log[field], window)
                axis.plot(x * scale, y, color=color, lw=1.2, label=name)
        if "decode_acc" in log:
            where = np.flatnonzero(np.isfinite(log["decode_acc"]))
            axes[-1].plot((where + 1) * scale, log["decode_acc"][where], ".", color=color, ms=2, alpha=0.5)
    for axis, (field, title) in zip(axes, PRETRAINING_PANELS, strict=True):
        axis.set_title(title)
        axis.set_xlabel("graphs seen / 512")
        axis.grid(alpha=0.3)
        if field in ("recon_loss", "metric_loss"):
            axis.set_yscale("log")
