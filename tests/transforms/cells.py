"""Random valid cells and an edit replayer for the tests of gnnas.transforms and gnnas.datasets.

The networkx GED reference is :func:`tests.ged.ged_helpers.networkx_ged`.
"""

import numpy as np

from gnnas import ArchSpec
from gnnas.space import INTERIOR_OPS

CHAIN3 = ArchSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
TRIVIAL = ArchSpec([[0, 1], [0, 0]], ["input", "output"])
DIAMOND = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                   ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])


def random_cells(count: int, seed: int, min_vertices: int = 3) -> list[ArchSpec]:
    """``count`` valid unpruned cells of ``min_vertices`` to 7 vertices (mostly 6 and 7, as in the space).

    Every vertex but the output gets an out-edge to a later vertex and every vertex but the input
    an in-edge from an earlier one, so no vertex is pruned; then random extra edges, at most 9 in all.
    """
    rng = np.random.default_rng(seed)
    cells: list[ArchSpec] = []
    sizes = np.arange(min_vertices, 8)
    weights = np.array([0.05, 0.1, 0.15, 0.3, 0.4])[-len(sizes):]
    while len(cells) < count:
        n = int(rng.choice(sizes, p=weights / weights.sum()))
        matrix = np.zeros((n, n), dtype=np.uint8)
        for v in range(1, n):
            matrix[rng.integers(0, v), v] = 1
        for v in range(n - 1):
            if not matrix[v].any():
                matrix[v, rng.integers(v + 1, n)] = 1
        room = 9 - int(matrix.sum())
        if room < 0:
            continue
        free = np.argwhere(np.triu(matrix == 0, k=1))
        extra = int(rng.integers(0, min(room, len(free)) + 1))
        for i, j in free[rng.permutation(len(free))[:extra]]:
            matrix[i, j] = 1
        ops = ["input", *rng.choice(INTERIOR_OPS, n - 2).tolist(), "output"]
        spec = ArchSpec(matrix, ops)
        assert not spec.was_pruned
        cells.append(spec)
    return cells


def apply_edits(spec: ArchSpec, edits: tuple) -> ArchSpec:
    """Replays recorded edits on plain numpy matrices (a slow reference for edit_cell)."""
    matrix = spec.matrix.astype(np.uint8).copy()
    ops = list(spec.ops)
    for edit in edits:
        if edit[0] == "delete":
            v = edit[1]
            assert matrix[:, v].sum() == 1 and matrix[v].sum() == 1, "in and out degree 1"
            keep = [i for i in range(len(ops)) if i != v]
            matrix = matrix[np.ix_(keep, keep)]
            del ops[v]
        elif edit[0] == "flip":
            _, i, j = edit
            assert i < j
            matrix[i, j] ^= 1
        else:
            _, v, old, new = edit
            assert ops[v] == old and new != old and new in INTERIOR_OPS
            ops[v] = new
    return ArchSpec(matrix, ops)
