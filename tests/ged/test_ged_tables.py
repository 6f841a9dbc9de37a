import math

import numpy as np
from ged_helpers import random_cell

from gnnas.ged import paired_ged
from gnnas.ged._tables import chunk_values, free_tables, pinned_tables, prefix_permutations
from gnnas.ged.packing import pack


def test_prefix_permutations():
    perms = prefix_permutations(5)
    assert perms.shape == (120, 5)
    assert len({tuple(p) for p in perms.tolist()}) == 120
    for n in range(1, 6):  # the first n! permutations move only the first n slots
        head = perms[: math.factorial(n)]
        assert (head[:, n:] == np.arange(n, 5)).all()
        assert len({tuple(p) for p in head[:, :n].tolist()}) == math.factorial(n)


def test_tables_match_direct_permutation():
    rng = np.random.default_rng(0)
    cells = [random_cell(rng) for _ in range(20)]
    packed = pack(cells)
    for tables, upper, code in ((free_tables(), packed.upper, packed.code),
                                (pinned_tables(), packed.upper_io, packed.code_io)):
        assert tables.perms.shape == ((5040, 7) if tables is free_tables() else (120, 7))
        values = chunk_values(upper)
        permuted = np.bitwise_or.reduce([t[v] for t, v in zip(tables.chunks, values, strict=True)])
        for s in rng.integers(0, len(tables.perms), 30):
            sigma = tables.perms[s]
            for row in range(len(cells)):
                bits = [(i, j) for i in range(7) for j in range(7) if int(code[row]) >> (7 * i + j) & 1]
                expected = sum(1 << (7 * int(sigma[i]) + int(sigma[j])) for i, j in bits)
                assert int(permuted[row, s]) == expected
            assignment = sum(1 << (7 * i + int(sigma[i])) for i in range(7))
            assert int(tables.assignment[s]) == assignment
    # the pinned permutations fix the input (slot 0) and output (slot 6) slots
    assert (pinned_tables().perms[:, 0] == 0).all() and (pinned_tables().perms[:, 6] == 6).all()


def test_pinned_layout_and_empty():
    rng = np.random.default_rng(1)
    cell = random_cell(rng, 4)
    packed = pack([cell])
    assert packed.labels.tolist() == [list(cell.op_indices) + [5, 5, 5]]
    assert packed.labels_io.tolist() == [list(cell.op_indices[:3]) + [5, 5, 5, 4]]
    assert paired_ged([], []).shape == (0,)
