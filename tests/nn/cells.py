"""Random valid cells for the tests of gnnas.nn (sampled matrices and ops that ArchSpec accepts)."""

import numpy as np

from gnnas import ArchSpec
from gnnas.space import INTERIOR_OPS


def random_cells(count: int, seed: int) -> list[ArchSpec]:
    rng = np.random.default_rng(seed)
    cells: list[ArchSpec] = []
    while len(cells) < count:
        num_vertices = int(rng.integers(2, 8))
        density = rng.uniform(0.2, 0.7)
        matrix = np.triu(rng.random((num_vertices, num_vertices)) < density, k=1).astype(np.uint8)
        ops = ["input", *rng.choice(INTERIOR_OPS, num_vertices - 2).tolist(), "output"]
        try:
            cells.append(ArchSpec(matrix, ops))
        except ValueError:
            continue
    return cells
