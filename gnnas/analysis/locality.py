r"""Locality of the NAS-Bench-101 space: pairs of cells by exact graph edit distance, and statistics.

The paper's Fig. 1 asks whether the space is *local*: do cells that are close in graph edit
distance (GED) also have close accuracies, and close embeddings? Answering it needs pairs of cells
at a known, exact distance ``d = 1, 2, ...``. Random pairs are almost never close (on the 30,001
cells of ``nb101_subset_30k.csv`` about 1 pair in 15,000 is at distance 1), and the exact GED
of all :math:`30{,}001^2 / 2` pairs is far too slow, so :func:`pairs_by_distance` fills the
larger distances with random pairs and the small ones from random anchors, computing the exact
GED from an anchor only to the cells that a cheap lower bound (:func:`~gnnas.ged.ged_lower_bound`) cannot
rule out.

A short tour::

    >>> from gnnas.analysis import pairs_by_distance, distance_statistics
    >>> found = pairs_by_distance(cells, distances=range(1, 7), pairs_per_distance=1000, seed=0)
    >>> found.pairs[1].shape           # (P, 2) indices into ``cells``, all at exact GED 1
    >>> i, j = found.pairs[1].T
    >>> stats = distance_statistics(found.distance_array(), abs(acc[i] - acc[j]))

The lower bound is :func:`gnnas.ged.ged_lower_bound` (label histograms, sorted degrees, and the
per-vertex assignment bound), computed from each anchor to every cell by
:meth:`gnnas.ged.GEDIndex.lower_bound`. On random pairs of the 30k table it rules out all but
at most about 0.4% of the cells for ``d ≤ 1`` and 5% for ``d ≤ 2``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from gnnas.space.cell_array import CellArray
from gnnas.space.spec import ArchSpec

__all__ = [
    "DistancePairs",
    "pairs_by_distance",
    "random_pairs",
    "anchors_with_positives",
    "within_group_pairs",
    "distance_statistics",
    "spearman",
]

#: Quantiles reported per distance by :func:`distance_statistics`.
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)

@dataclass
class DistancePairs:
    """Pairs of cells found at each exact graph edit distance by :func:`pairs_by_distance`.

    Attributes:
        pairs (dict[int, numpy.ndarray]): for each distance ``d``, int64 ``(P_d, 2)`` indices into
            the cells, each pair at exact GED ``d``, ``i != j``, no unordered pair twice; the pairs
            from random pairs come first, then those from anchors.
        from_random (dict[int, int]): how many of ``pairs[d]`` are uniformly random pairs.
        num_anchors (dict[int, int]): how many anchors were searched for pairs at distance ``d``.
        num_random (int): random pairs whose exact distance was computed.
        num_anchors_total (int): anchors searched in all.
        num_exact (int): exact distances computed in all.
        num_bounded (int): lower bounds computed (anchor phase).
    """

    pairs: dict[int, np.ndarray]
    from_random: dict[int, int] = field(default_factory=dict)
    num_anchors: dict[int, int] = field(default_factory=dict)
    num_random: int = 0
    num_anchors_total: int = 0
    num_exact: int = 0
    num_bounded: int = 0

    def distance_array(self) -> np.ndarray:
        """Returns the distance of every pair.

        Returns:
            numpy.ndarray: int64 ``(P,)``, in the order of :meth:`pair_array`.
        """
        parts = [np.full(len(p), d, dtype=np.int64) for d, p in sorted(self.pairs.items())]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def pair_array(self) -> np.ndarray:
        """Returns all pairs, distance by distance.

        Returns:
            numpy.ndarray: int64 ``(P, 2)`` cell indices.
        """
        parts = [p.reshape(-1, 2) for _, p in sorted(self.pairs.items())]
        return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def pairs_by_distance(
    cells: Sequence[ArchSpec] | CellArray,
    distances: Iterable[int] = range(1, 7),
    pairs_per_distance: int = 1000,
    *,
    max_random_pairs: int = 200_000,
    max_pairs_per_anchor: int | None = 20,
    max_anchors: int | None = None,
    batch_size: int = 10_000,
    seed: int | np.random.Generator | None = None,
    progress: Callable[[str, int, dict[int, int]], None] | None = None,
) -> DistancePairs:
    r"""Finds pairs of cells at each exact graph edit distance: random pairs, then random anchors.

    **Random pairs.** Uniformly random pairs are drawn in batches of ``batch_size`` and their
    exact GED (:func:`gnnas.ged.paired_ged`) is computed; a pair is kept when its distance is
    requested and not yet full. This is the unbiased sample, and it fills the larger distances
    quickly. The phase stops when every distance whose observed rate would fill it within
    ``max_random_pairs`` is full, or after ``max_random_pairs`` pairs.

    **Anchors.** Close pairs are rare (on the 30,001 cells of ``nb101_subset_30k.csv``, about 1
    random pair in 15,000 is at distance 1), so the distances left open are searched from random
    anchors, drawn without replacement: for each anchor, the exact GED
    (:func:`gnnas.ged.pairwise_ged`) is computed to every cell whose :func:`~gnnas.ged.ged_lower_bound` is at
    most the largest open distance, and up to ``max_pairs_per_anchor`` of the anchor's partners at
    each open distance, drawn at random, are kept. Capping the partners per anchor spreads each
    distance over many anchors (a cell has thousands of partners at distance 6 and one or two at
    distance 1), so the sample is as random as the anchors are, though pairs sharing an anchor
    are not independent.

    Args:
        cells (Sequence[ArchSpec] | CellArray): the cells to pair, all distinct (e.g. ``table.cells``
            of a NAS-Bench-101 table), or anything :meth:`CellArray.of
            <gnnas.space.CellArray.of>` accepts.
        distances (Iterable[int], optional): the distances wanted, each :math:`\geq 1`.
            (default: ``range(1, 7)``)
        pairs_per_distance (int, optional): stop searching a distance once it has this many
            pairs. (default: :obj:`1000`)
        max_random_pairs (int, optional): most random pairs to evaluate; :obj:`0` skips the phase.
            (default: :obj:`200_000`)
        max_pairs_per_anchor (int, optional): keep at most this many partners per anchor and
            distance; :obj:`None` keeps all. (default: :obj:`20`)
        max_anchors (int, optional): search at most this many anchors; distances may then end
            with fewer pairs. (default: :obj:`None`, every cell may be an anchor)
        batch_size (int, optional): random pairs per batch. (default: :obj:`10_000`)
        seed (int or numpy.random.Generator, optional): all the randomness. (default: :obj:`None`)
        progress (callable, optional): called after each batch and each anchor with the phase
            (``"random"`` or ``"anchors"``), the pairs or anchors searched so far, and the number
            of pairs found per distance. (default: :obj:`None`)

    Returns:
        DistancePairs: the pairs and how they were found.

    Raises:
        ValueError: if a distance is below 1, a count is out of range, or there are fewer than 2
            cells.
    """
    from gnnas.ged import GEDIndex, paired_ged, pairwise_ged

    wanted = sorted({int(d) for d in distances})
    if not wanted or wanted[0] < 1:
        raise ValueError(f"distances must be integers >= 1, got {wanted}")
    if pairs_per_distance < 1:
        raise ValueError(f"pairs_per_distance must be >= 1, got {pairs_per_distance}")
    if max_random_pairs < 0 or batch_size < 1:
        raise ValueError(
            f"need max_random_pairs >= 0 and batch_size >= 1, got {max_random_pairs} and {batch_size}"
        )
    if max_pairs_per_anchor is not None and max_pairs_per_anchor < 1:
        raise ValueError(f"max_pairs_per_anchor must be >= 1 or None, got {max_pairs_per_anchor}")
    table = CellArray.of(cells)
    num_cells = len(table)
    if num_cells < 2:
        raise ValueError(f"need at least 2 cells to pair, got {num_cells}")
    rng = np.random.default_rng(seed)  # a Generator is returned as is
    found: dict[int, list[np.ndarray]] = {d: [] for d in wanted}
    count = dict.fromkeys(wanted, 0)
    seen: set[tuple[int, int]] = set()
    result = DistancePairs(pairs={}, num_anchors=dict.fromkeys(wanted, 0))

    def keep(d: int, pairs: list[tuple[int, int]], fill: bool) -> None:
        new = [(i, j) for i, j in pairs if (min(i, j), max(i, j)) not in seen]
        new = new[: pairs_per_distance - count[d]] if fill else new  # random pairs only fill up
        seen.update((min(i, j), max(i, j)) for i, j in new)
        found[d].append(np.array(new, dtype=np.int64).reshape(-1, 2))
        count[d] += len(new)

    # phase 1: uniformly random pairs, while they fill some open distance within the budget
    served, hits = set(wanted), dict.fromkeys(wanted, 0)
    while result.num_random < max_random_pairs and served:
        pairs = random_pairs(num_cells, min(batch_size, max_random_pairs - result.num_random), seed=rng)
        exact = paired_ged(table[pairs[:, 0]], table[pairs[:, 1]])
        result.num_random += len(pairs)
        for d in wanted:  # keep every useful random pair, also at distances left to anchors
            keep(d, [tuple(pair) for pair in pairs[exact == d].tolist()], fill=True)
        for d in wanted:
            hits[d] += int((exact == d).sum())
        left = max_random_pairs - result.num_random
        served = {  # distances that the observed rate fills within the budget left
            d for d in served
            if count[d] < pairs_per_distance
            and hits[d] / result.num_random * left >= pairs_per_distance - count[d]
        }
        if progress is not None:
            progress("random", result.num_random, dict(count))
    result.from_random = dict(count)
    result.num_exact = result.num_random

    # phase 2: anchors, for the distances still open
    order = rng.permutation(num_cells)[:max_anchors]
    index: GEDIndex | None = None  # the bounds' summaries of every cell, made once
    for searched, a in enumerate(order.tolist(), start=1):
        open_ = [d for d in wanted if count[d] < pairs_per_distance]
        if not open_:
            break
        index = GEDIndex(table) if index is None else index
        bound = index.lower_bound(table[a])
        bound[a] = np.iinfo(bound.dtype).max  # never pair a cell with itself
        candidates = np.flatnonzero(bound <= open_[-1])
        result.num_bounded += num_cells
        result.num_exact += len(candidates)
        exact = pairwise_ged(table[[a]], table[candidates])[0] if len(candidates) else np.zeros(0, np.int32)
        for d in open_:
            partners = candidates[exact == d]
            partners = partners[[(min(a, b), max(a, b)) not in seen for b in partners.tolist()]]
            if max_pairs_per_anchor is not None and len(partners) > max_pairs_per_anchor:
                partners = np.sort(rng.choice(partners, size=max_pairs_per_anchor, replace=False))
            keep(d, [(a, b) for b in partners.tolist()], fill=False)
            result.num_anchors[d] += 1
        result.num_anchors_total = searched
        if progress is not None:
            progress("anchors", searched, dict(count))
    result.pairs = {d: np.concatenate(found[d]) if found[d] else np.zeros((0, 2), np.int64) for d in wanted}
    return result


def anchors_with_positives(
    anchors: Sequence[ArchSpec],
    num_positives: int = 7,
    max_edits: int = 3,
    *,
    seed: int | np.random.Generator | None = None,
) -> tuple[list[ArchSpec], np.ndarray, np.ndarray]:
    """Groups of an anchor and its positives, as in pretraining (the paper's Fig. 2).

    Each positive is edited from its anchor (not chained) by :func:`gnnas.transforms.edit_cell`
    with a number of edits drawn uniformly from ``1 .. max_edits`` (the paper's 1:1:1 mix for
    ``max_edits=3``). The nominal number of edits is *not* a distance: measure distances with
    :func:`gnnas.ged.paired_ged`.

    Args:
        anchors (Sequence[ArchSpec]): the anchors.
        num_positives (int, optional): positives per anchor. (default: :obj:`7`)
        max_edits (int, optional): most edits per positive. (default: :obj:`3`)
        seed (int or numpy.random.Generator, optional): the randomness. (default: :obj:`None`)

    Returns:
        tuple[list[ArchSpec], numpy.ndarray, numpy.ndarray]: the cells (each anchor followed by
        its positives), the group (anchor number) of each cell, int64 ``(N,)``, and which cells
        are anchors, bool ``(N,)``; ``N = len(anchors) * (1 + num_positives)``.

    Raises:
        ValueError: if ``num_positives`` or ``max_edits`` is below 1.
        gnnas.transforms.NoValidEditError: if an anchor has no valid edited cell (such as
            ``input → output``).
    """
    from gnnas.transforms import edit_cell

    if num_positives < 1 or max_edits < 1:
        raise ValueError(f"num_positives and max_edits must be >= 1, got {num_positives} and {max_edits}")
    rng = np.random.default_rng(seed)  # a Generator is returned as is
    cells: list[ArchSpec] = []
    for anchor in anchors:
        cells.append(anchor)
        for k in rng.integers(1, max_edits + 1, size=num_positives).tolist():
            cells.append(edit_cell(anchor, k, generator=rng).spec)
    groups = np.repeat(np.arange(len(anchors)), 1 + num_positives)
    is_anchor = np.tile(np.arange(1 + num_positives) == 0, len(anchors))
    return cells, groups, is_anchor


def within_group_pairs(groups: np.ndarray) -> np.ndarray:
    """All unordered pairs of items of the same group.

    Args:
        groups (numpy.ndarray): ``(N,)`` integer group of each item.

    Returns:
        numpy.ndarray: int64 ``(P, 2)`` pairs ``(i, j)``, ``i < j``, ``groups[i] == groups[j]``,
        in lexicographic order.
    """
    groups = np.asarray(groups)
    order = np.argsort(groups, kind="stable")  # the items of each group, in increasing index
    _, starts, sizes = np.unique(groups[order], return_index=True, return_counts=True)
    parts = [np.empty((0, 2), dtype=np.int64)]
    for size in np.unique(sizes).tolist():  # memory: the pairs, not the square of the items
        i, j = np.triu_indices(size, k=1)
        members = np.stack([order[start:start + size] for start in starts[sizes == size]])  # (G, size)
        parts.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    pairs = np.concatenate(parts).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def random_pairs(
    num_items: int, num_pairs: int, *, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """Draws pairs of distinct indices uniformly at random (with replacement between pairs).

    Args:
        num_items (int): indices are drawn from ``0 .. num_items - 1``.
        num_pairs (int): how many pairs.
        seed (int or numpy.random.Generator, optional): the randomness. (default: :obj:`None`)

    Returns:
        numpy.ndarray: int64 ``(num_pairs, 2)``, ``pairs[:, 0] != pairs[:, 1]``.

    Raises:
        ValueError: if ``num_items < 2`` or ``num_pairs < 0``.
    """
    if num_items < 2:
        raise ValueError(f"need at least 2 items to pair, got {num_items}")
    if num_pairs < 0:
        raise ValueError(f"num_pairs must be >= 0, got {num_pairs}")
    rng = np.random.default_rng(seed)  # a Generator is returned as is
    first = rng.integers(0, num_items, size=num_pairs)
    # a uniform second index among the other num_items - 1
    second = rng.integers(0, num_items - 1, size=num_pairs)
    second += second >= first
    return np.stack([first, second], axis=1).astype(np.int64)


def spearman(x: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    """Spearman's rank correlation of ``x`` and ``y`` and its two-sided p-value.

    Args:
        x (numpy.ndarray): ``(P,)``.
        y (numpy.ndarray): ``(P,)``.

    Returns:
        dict: ``{"rho": float, "p_value": float}``; both :obj:`None` when either input is constant
        or has fewer than 3 values (the correlation is undefined).

    Raises:
        ValueError: if the lengths differ.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": None, "p_value": None}
    result = stats.spearmanr(x, y)
    return {"rho": float(result.statistic), "p_value": float(result.pvalue)}


def distance_statistics(
    distances: np.ndarray, values: np.ndarray, quantiles: Sequence[float] = QUANTILES
) -> dict:
    """Summarises ``values`` (e.g. accuracy differences or cosine similarities) per edit distance.

    Args:
        distances (numpy.ndarray): integer distance of each pair, ``(P,)``.
        values (numpy.ndarray): the value of each pair, ``(P,)``.
        quantiles (Sequence[float], optional): quantiles to report per distance.
            (default: :obj:`(0.05, 0.25, 0.5, 0.75, 0.95)`)

    Returns:
        dict: ``{"num_pairs", "spearman": {"rho", "p_value"}, "per_distance": {d: {"count",
        "mean", "std", "quantiles": {q: value}}}}`` with plain Python numbers (JSON-ready);
        distances are string keys.

    Raises:
        ValueError: if the shapes differ.
    """
    distances = np.asarray(distances).astype(np.int64)
    values = np.asarray(values, dtype=float)
    if distances.shape != values.shape or distances.ndim != 1:
        raise ValueError(f"distances and values must be 1-D of the same shape, got "
                         f"{distances.shape} and {values.shape}")
    per_distance = {}
    for d in np.unique(distances).tolist():
        v = values[distances == d]
        q = np.quantile(v, quantiles)
        per_distance[str(d)] = {
            "count": int(len(v)),
            "mean": float(v.mean()),
            "std": float(v.std()),
            "quantiles": {str(k): float(x) for k, x in zip(quantiles, q, strict=True)},
        }
    return {
        "num_pairs": int(len(values)),
        "spearman": spearman(distances, values),
        "per_distance": per_distance,
    }
