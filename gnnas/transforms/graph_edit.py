r"""Random graph edits of a NAS-Bench-101 cell: the positives of locality-based pretraining.

The paper makes a positive for an anchor cell by a few random edits. Three kinds of edit exist:

- ``"op"``: change the op of one interior vertex to a *different* interior op (cost 1);
- ``"flip"``: flip one entry ``(i, j)``, ``i < j``, of the adjacency matrix, that is add or
  remove the edge ``i → j`` (cost 1);
- ``"delete"``: delete an interior vertex with exactly one in-edge and one out-edge, together
  with those two edges (cost 3: one vertex and two edges; no bypass edge is added).

A *combination* is a multiset of kinds written as a string, ``"flip+op+op"``; its number of
edits is the sum of the costs. The paper's mix (:data:`DEFAULT_EDIT_WEIGHTS`) is, for 1 edit,
``op`` or ``flip``; for 2 edits ``op+op``, ``flip+op`` or ``flip+flip`` (uniformly); for 3 edits
``delete`` (0.1), ``op+op+op``, ``flip+op+op`` or ``flip+flip+op`` (0.3 each).

Within one combination the edits never touch the same vertex twice (op changes) or the same
matrix entry twice (flips), so no edit undoes another one literally, and every edit is applied:
``num_edits`` is always the cost of the combination. The result must be

1. a valid cell that pruning leaves unchanged (every vertex on an input → output path), with at
   most :data:`~gnnas.space.ops.MAX_EDGES` edges (vertices are never added), and
2. a *different* cell from the anchor: its official hash differs. Edits can still cancel up to
   isomorphism (two op changes that swap the ops of two symmetric vertices, two flips that
   rewire a vertex onto an equivalent one); such outcomes are rejected.

An outcome is drawn uniformly at random among the outcomes of the chosen combination (rejection
sampling, then an exhaustive search when ``max_tries`` random draws all failed, so rare valid
outcomes are still found); if a combination has no valid outcome at all for this cell, another
combination of the same number of edits is drawn from the remaining weights; if none is left,
:class:`NoValidEditError` is raised. The input is never returned.

A short tour::

    >>> import numpy as np
    >>> from gnnas import ArchSpec
    >>> from gnnas.transforms import edit_cell
    >>> spec = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ...                 ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    >>> result = edit_cell(spec, 2, generator=np.random.default_rng(0))
    >>> result.num_edits, result.combination, result.spec != spec
    (2, ..., True)

The exact graph edit distance between the anchor and the result can be smaller than
``num_edits`` (see ``benchmarks/augment_stats.py``); :class:`~gnnas.transforms.GraphEditAugment`
labels every positive with it.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from gnnas.space.ops import MAX_EDGES, OP_INDEX, OPS
from gnnas.space.spec import ArchSpec
from gnnas.transforms.anchor import PAIRS, Anchor, Outcome, Structure, delete_vertex, is_full, to_spec

__all__ = [
    "EDIT_KINDS", "EDIT_COSTS", "DEFAULT_EDIT_WEIGHTS", "NoValidEditError", "EditResult",
    "edit_cell", "edit_weights",
]

#: The kinds of edit, in the order used to spell a combination.
EDIT_KINDS: tuple[str, ...] = ("delete", "flip", "op")

#: The number of edits each kind counts for (a vertex deletion removes a vertex and two edges).
EDIT_COSTS: dict[str, int] = {"delete": 3, "flip": 1, "op": 1}

#: The paper's mix: relative weights of the combinations of each number of edits.
DEFAULT_EDIT_WEIGHTS: dict[str, float] = {
    "op": 0.5, "flip": 0.5,
    "op+op": 1 / 3, "flip+op": 1 / 3, "flip+flip": 1 / 3,
    "delete": 0.1, "op+op+op": 0.3, "flip+op+op": 0.3, "flip+flip+op": 0.3,
}

Generator = Union[np.random.Generator, int, None]  # noqa: UP007 (a runtime alias)


class NoValidEditError(ValueError):
    """Raised when a cell has no valid, different outcome for the requested number of edits."""


@dataclass(frozen=True)
class EditResult:
    """The outcome of :func:`edit_cell`.

    Attributes:
        spec (ArchSpec): the edited cell (valid, unchanged by pruning, different from the input).
        num_edits (int): the number of edits applied (the cost of :attr:`combination`).
        combination (str): the combination of edit kinds, e.g. ``"flip+op"``.
        edits (tuple): the edits in the order applied, each ``("delete", v)``,
            ``("flip", i, j)`` or ``("op", v, old_op, new_op)``; vertex numbers refer to the cell
            as it was when the edit was applied (a deletion renumbers the later vertices).
    """

    spec: ArchSpec
    num_edits: int
    combination: str
    edits: tuple[tuple, ...]


# ---------------------------------------------------------------------- combinations and weights
@functools.lru_cache(maxsize=256)
def _parse_combination(name: str) -> tuple[int, int, int]:
    """``"flip+op+op"`` → ``(deletes, flips, ops)``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a combination is a string like 'flip+op', got {name!r}")
    parts = name.split("+")
    unknown = [part for part in parts if part not in EDIT_COSTS]
    if unknown:
        raise ValueError(f"unknown edit kinds {unknown} in {name!r}; expected kinds from {list(EDIT_KINDS)}")
    counts = (parts.count("delete"), parts.count("flip"), parts.count("op"))
    if counts[0] > 1:
        raise ValueError(f"a combination deletes at most one vertex, got {name!r}")
    return counts


def _combination_name(counts: tuple[int, int, int]) -> str:
    return "+".join(kind for kind, count in zip(EDIT_KINDS, counts, strict=True) for _ in range(count))


def _cost(counts: tuple[int, int, int]) -> int:
    return 3 * counts[0] + counts[1] + counts[2]


def edit_weights(weights: Mapping[str, float] | None = None,
                 max_edits: int = 3) -> dict[int, dict[str, float]]:
    """Validates combination weights and groups them by number of edits, normalised to sum 1.

    Args:
        weights (Mapping[str, float], optional): relative weight of each combination, e.g.
            ``{"op": 1, "flip": 1, "flip+op": 2}``; combinations of the same number of edits
            compete with each other. :obj:`None` takes :data:`DEFAULT_EDIT_WEIGHTS` for 1 to 3
            edits and, for more, all mixtures of ``op`` and ``flip`` with equal weights.
            (default: :obj:`None`)
        max_edits (int, optional): every number of edits in ``1 .. max_edits`` must have a
            combination with positive weight. (default: :obj:`3`)

    Returns:
        dict[int, dict[str, float]]: for each number of edits, the probabilities of its
        combinations (canonical names such as ``"flip+op+op"``).

    Raises:
        ValueError: if ``max_edits < 1``, a name is not a combination of known kinds, a weight is
            negative or not finite, or some number of edits in ``1 .. max_edits`` has no
            positive weight.
    """
    max_edits = _check_positive_int(max_edits, "max_edits")
    return _group_weights(weights, range(1, max_edits + 1))


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _group_weights(weights: Mapping[str, float] | None,
                   required: range | tuple[int, ...]) -> dict[int, dict[str, float]]:
    if weights is None:
        weights = dict(DEFAULT_EDIT_WEIGHTS)
        for k in range(4, max(required, default=0) + 1):
            for flips in range(k + 1):
                weights[_combination_name((0, flips, k - flips))] = 1.0
    if not isinstance(weights, Mapping):
        raise ValueError(
            f"weights must be a mapping from combination to weight, got {type(weights).__name__}"
        )
    grouped: dict[int, dict[str, float]] = {}
    for name, weight in weights.items():
        counts = _parse_combination(name)
        try:
            weight = float(weight)
        except (TypeError, ValueError) as error:
            raise ValueError(f"the weight of {name!r} must be a number, got {weight!r}") from error
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"the weight of {name!r} must be finite and >= 0, got {weight}")
        if weight > 0:
            group = grouped.setdefault(_cost(counts), {})
            canonical = _combination_name(counts)
            group[canonical] = group.get(canonical, 0.0) + weight
    missing = [k for k in required if k not in grouped]
    if missing:
        raise ValueError(f"weights give no combination with positive weight for {missing} edits")
    return {
        k: {name: w / sum(group.values()) for name, w in group.items()}
        for k, group in sorted(grouped.items())
    }


# ---------------------------------------------------------------------- random outcomes
_INTERIOR = (OP_INDEX["conv3x3-bn-relu"], OP_INDEX["conv1x1-bn-relu"], OP_INDEX["maxpool3x3"])
_OTHER_OPS = {op: tuple(other for other in _INTERIOR if other != op) for op in _INTERIOR}


def _random_outcome(anchor: Anchor, counts: tuple[int, int, int], rnd: random.Random) -> Outcome | None:
    """One random outcome of a combination, or None if it is invalid or equals the anchor.

    Draws the structure (deletion, flips) here and the op changes in :func:`_change_ops`.
    """
    deletes, flips, op_changes = counts
    edits: list[tuple] = []
    if deletes and not flips:  # only valid deletions are drawn
        deletions = anchor.valid_deletions
        v, rows, ops = deletions[int(rnd.random() * len(deletions))]
        n, rows, ops, num_edges = anchor.n - 1, list(rows), list(ops), anchor.num_edges - 2
        edits.append(("delete", v))
    elif flips == 1 and not deletes:  # only valid flips are drawn
        n, rows, ops = anchor.n, list(anchor.rows), list(anchor.ops)
        valid = anchor.valid_flips
        i, j = valid[int(rnd.random() * len(valid))]
        num_edges = anchor.num_edges + (-1 if rows[i] >> j & 1 else 1)
        rows[i] ^= 1 << j
        edits.append(("flip", i, j))
    else:
        n, rows, ops = anchor.n, list(anchor.rows), list(anchor.ops)
        num_edges = anchor.num_edges
        if deletes:
            v = anchor.deletable[int(rnd.random() * len(anchor.deletable))]
            rows, ops = delete_vertex(n, rows, ops, v)
            n -= 1
            num_edges -= 2
            edits.append(("delete", v))
        if flips:
            pairs = PAIRS[n]
            chosen: list[int] = []
            while len(chosen) < flips:
                p = int(rnd.random() * len(pairs))
                if p not in chosen:
                    chosen.append(p)
            for p in chosen:
                i, j = pairs[p]
                bit = 1 << j
                num_edges += -1 if rows[i] & bit else 1
                rows[i] ^= bit
                edits.append(("flip", i, j))
        if (deletes or flips) and (num_edges > MAX_EDGES or not is_full(n, rows)):
            return None
    return _change_ops(anchor, (n, rows, ops, num_edges, tuple(edits)), op_changes, rnd)


def _change_ops(anchor: Anchor, structure: Structure, op_changes: int,
                rnd: random.Random) -> Outcome | None:
    n, rows, ops, num_edges, edits = structure
    ops = list(ops)
    chosen: list[int] = []
    while len(chosen) < op_changes:
        v = 1 + int(rnd.random() * (n - 2))
        if v not in chosen:
            chosen.append(v)
    op_edits = []
    for v in chosen:
        old = ops[v]
        new = _OTHER_OPS[old][rnd.random() < 0.5]
        ops[v] = new
        op_edits.append(("op", v, OPS[old], OPS[new]))
    if not anchor.differs(n, rows, ops, num_edges):
        return None
    return n, list(rows), ops, edits + tuple(op_edits)


def _all_outcomes(anchor: Anchor, counts: tuple[int, int, int]) -> list[Outcome]:
    """Every valid, different outcome of a combination (the exhaustive fallback)."""
    deletes, flips, op_changes = counts
    outcomes: list[Outcome] = []
    for n, rows, ops0, num_edges, edits in anchor.structures(deletes, flips):
        for vertices in itertools.combinations(range(1, n - 1), op_changes):
            for news in itertools.product(*(_OTHER_OPS[ops0[v]] for v in vertices)):
                ops = list(ops0)
                for v, new in zip(vertices, news, strict=True):
                    ops[v] = new
                if anchor.differs(n, rows, ops, num_edges):
                    op_edits = tuple(
                        ("op", v, OPS[ops0[v]], OPS[new]) for v, new in zip(vertices, news, strict=True)
                    )
                    outcomes.append((n, list(rows), ops, edits + op_edits))
    return outcomes


def _try_combination(anchor: Anchor, counts: tuple[int, int, int], rnd: random.Random,
                     max_tries: int) -> Outcome | None:
    deletes, flips, op_changes = counts
    n = anchor.n - deletes
    if (deletes and not anchor.deletable) or op_changes > n - 2 or flips > len(PAIRS.get(n, ())):
        return None
    if deletes and not flips and not anchor.valid_deletions:
        return None
    if flips == 1 and not deletes and not anchor.valid_flips:
        return None
    for _ in range(max_tries):
        outcome = _random_outcome(anchor, counts, rnd)
        if outcome is not None:
            return outcome
    # Rare valid outcomes: draw among the valid structures (a uniform structure, then uniform op
    # changes, is uniform over the outcomes), and enumerate everything only if that fails too.
    structures = anchor.structures(deletes, flips)
    if not structures:
        return None
    for _ in range(max_tries):
        outcome = _change_ops(anchor, structures[int(rnd.random() * len(structures))], op_changes, rnd)
        if outcome is not None:
            return outcome
    outcomes = _all_outcomes(anchor, counts)
    if not outcomes:
        return None
    return outcomes[int(rnd.random() * len(outcomes))]


def edit_outcome(anchor: Anchor, num_edits: int, weights: Mapping[int, Mapping[str, float]],
                 rnd: random.Random, max_tries: int = 16) -> tuple[Outcome, str]:
    """The fast core of :func:`edit_cell`: returns ``((n, rows, ops, edits), combination)``.

    Raises:
        NoValidEditError: if no combination of ``num_edits`` edits has a valid, different outcome.
    """
    group = weights.get(num_edits)
    if not group:
        raise NoValidEditError(f"no combination of {num_edits} edits has a positive weight")
    names = list(group)
    probs = [group[name] for name in names]
    while names:
        u = rnd.random() * sum(probs)
        index = len(names) - 1
        for k, p in enumerate(probs):
            u -= p
            if u < 0:
                index = k
                break
        name = names[index]
        outcome = _try_combination(anchor, _parse_combination(name), rnd, max_tries)
        if outcome is not None:
            return outcome, name
        del names[index], probs[index]
    raise NoValidEditError(
        f"the cell {anchor.spec!r} has no valid cell at {num_edits} edits that differs from it "
        f"(combinations tried: {list(group)})"
    )


def python_random(generator: Generator) -> random.Random:
    """A private :class:`random.Random` seeded from a numpy generator or an int (fast scalar draws)."""
    if generator is None:
        generator = np.random.default_rng()
    elif isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        generator = np.random.default_rng(int(generator))
    elif not isinstance(generator, np.random.Generator):
        raise ValueError(
            f"generator must be a numpy Generator, an int seed or None, got {type(generator).__name__}"
        )
    return random.Random(int(generator.integers(0, 2**63)))


def edit_cell(spec: ArchSpec, num_edits: int, *, generator: Generator = None,
              weights: Mapping[str, float] | None = None, max_tries: int = 16) -> EditResult:
    r"""Applies ``num_edits`` random edits to a cell and returns a different valid cell.

    A combination of ``num_edits`` edits is drawn from ``weights``, then an outcome uniformly at
    random among its valid outcomes (see the module documentation for the rules).

    Args:
        spec (ArchSpec): the anchor cell.
        num_edits (int): the number of edits (an op change and a flip count 1, a deletion 3).
        generator (numpy.random.Generator or int, optional): the source of randomness, or a seed.
            (default: :obj:`None`, fresh entropy)
        weights (Mapping[str, float], optional): relative weights of the combinations, see
            :func:`edit_weights`. (default: :obj:`None`, the paper's mix)
        max_tries (int, optional): random draws per combination before its outcomes are
            enumerated exhaustively. (default: :obj:`16`)

    Returns:
        EditResult: the edited cell, ``num_edits``, the combination and the edits.

    Raises:
        ValueError: if ``spec`` is not an :class:`ArchSpec`, ``num_edits`` is not a positive
            integer, the weights are invalid or ``max_tries < 1``.
        NoValidEditError: if the cell has no valid, different cell at ``num_edits`` edits among
            the combinations with positive weight (e.g. the cell ``input → output``).
    """
    if not isinstance(spec, ArchSpec):
        raise ValueError(f"spec must be an ArchSpec, got {type(spec).__name__}")
    num_edits = _check_positive_int(num_edits, "num_edits")
    max_tries = _check_positive_int(max_tries, "max_tries")
    grouped = _group_weights(weights, (num_edits,))
    rnd = python_random(generator)
    (n, rows, ops, edits), name = edit_outcome(Anchor(spec), num_edits, grouped, rnd, max_tries)
    return EditResult(to_spec(n, rows, ops), num_edits, name, edits)


def edit_outcome_any(anchor: Anchor, num_edits: int, weights: Mapping[int, Mapping[str, float]],
                     rnd: random.Random, max_tries: int = 16) -> tuple[Outcome, str, int]:
    """:func:`edit_outcome` that falls back to the nearest other number of edits with weights.

    The counts are tried in the order ``num_edits``, then by distance to it, the smaller first
    (``3 → 2 → 4 → 1 ...``), among the counts present in ``weights``.

    Returns:
        tuple: ``((n, rows, ops, edits), combination, number of edits applied)``.

    Raises:
        NoValidEditError: if no number of edits in ``weights`` gives a valid, different cell.
    """
    try:
        outcome, name = edit_outcome(anchor, num_edits, weights, rnd, max_tries)
        return outcome, name, num_edits
    except NoValidEditError:
        pass
    for k in sorted((k for k in weights if k != num_edits), key=lambda k: (abs(k - num_edits), k)):
        try:
            outcome, name = edit_outcome(anchor, k, weights, rnd, max_tries)
            return outcome, name, k
        except NoValidEditError:
            continue
    raise NoValidEditError(
        f"the cell {anchor.spec!r} has no valid cell that differs from it at any of {sorted(weights)} edits"
    )


def check_int(value: object, name: str, minimum: int) -> int:
    """Returns ``value`` as an int, or raises ValueError if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def num_edits_cdf(num_edits_weights: Sequence[float] | None, max_edits: int) -> list[float]:
    """Validates the relative probabilities of 1 .. max_edits edits; returns their cumulative sums."""
    if num_edits_weights is None:
        weights = np.ones(max_edits)
    else:
        weights = np.asarray(num_edits_weights, dtype=float)
        if weights.shape != (max_edits,):
            raise ValueError(f"num_edits_weights must have one weight per number of edits 1..{max_edits}, "
                             f"got shape {weights.shape}")
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"num_edits_weights must be finite, >= 0 and not all 0, got {weights.tolist()}")
    cdf = np.cumsum(weights) / weights.sum()
    cdf[-1] = 1.0
    return cdf.tolist()


def draw_num_edits(cdf: list[float], rnd: random.Random) -> int:
    """Draws a number of edits ``1 .. len(cdf)`` from the cumulative probabilities ``cdf``."""
    u = rnd.random()
    k = 1
    while cdf[k - 1] <= u and k < len(cdf):
        k += 1
    return k
