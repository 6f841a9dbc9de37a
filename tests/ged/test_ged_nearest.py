import numpy as np
import pytest
from ged_helpers import edited, random_cell

from gnnas.ged import GEDIndex, nearest_cells, pairwise_ged
from gnnas.space import CellArray


class Table:
    """Arrays as ``gnnas.space.enumerate_cells()`` holds them, from a list of specs (duck-typed)."""

    def __init__(self, cells):
        array = CellArray.from_specs(cells)
        self.matrices, self.op_indices = array.matrices, array.op_indices
        self.hashes = np.array([c.hash for c in cells])


def _brute_force(cell, cells, k, pin_io):
    distances = pairwise_ged([cell], cells, pin_io=pin_io)[0]
    order = np.lexsort((np.array([c.hash for c in cells]), distances))[:k]
    return order.tolist(), distances[order].tolist()


@pytest.mark.parametrize("pin_io", [False, True])
def test_nearest_equals_brute_force(pin_io):
    rng = np.random.default_rng(21 + pin_io)
    base = [random_cell(rng, int(rng.integers(5, 8))) for _ in range(30)]
    cells = base + [edited(rng, base[int(rng.integers(30))], int(rng.integers(1, 3))) for _ in range(370)]
    cells += cells[:5]  # duplicates: ties at distance 0, broken by hash (equal hashes: by position)
    index = GEDIndex(cells)
    table = Table(cells)
    for query in [cells[0], cells[50], random_cell(rng), edited(rng, cells[3], 2)]:
        for k in (1, 5, 30):
            expected = _brute_force(query, cells, k, pin_io)
            for candidates in (index, cells, table, CellArray.from_specs(cells)):
                rows, dist = nearest_cells(query, candidates, k=k, pin_io=pin_io)
                assert (rows.tolist(), dist.tolist()) == expected


def test_nearest_basics():
    rng = np.random.default_rng(8)
    cells = [random_cell(rng) for _ in range(20)]
    index = GEDIndex(cells)
    assert repr(index) == "GEDIndex(num_cells=20)"
    rows, dist = index.nearest(cells[7].to_data(), k=50)
    assert len(rows) == 20 and rows[0] == 7 and dist[0] == 0
    assert (np.diff(dist) >= 0).all()
    with pytest.raises(ValueError, match="k must be a positive integer"):
        index.nearest(cells[0], k=0)
    with pytest.raises(ValueError, match="ArchSpec or a PyG Data"):
        index.nearest("cell")
    with pytest.raises(ValueError, match="num_workers"):
        index.nearest(cells[0], num_workers=0)
    empty = GEDIndex([])
    assert [x.tolist() for x in empty.nearest(cells[0])] == [[], []]


def test_table_errors():
    rng = np.random.default_rng(9)
    cells = [random_cell(rng) for _ in range(5)]
    table = Table(cells)
    del table.hashes  # computed where the table does not hold them (ties are broken by hash)
    assert GEDIndex(table).packed.hashes.tolist() == [c.hash for c in cells]
    assert GEDIndex(table).nearest(cells[2])[0].tolist() == [2]
    bad = Table([random_cell(rng) for _ in range(5)])
    bad.op_indices = bad.op_indices[:, :6]
    with pytest.raises(ValueError, match=r"\(N, 7, 7\)"):
        GEDIndex(bad)
    bad = Table([random_cell(rng) for _ in range(5)])
    bad.op_indices = np.where(bad.op_indices == 4, 1, bad.op_indices)  # no output
    with pytest.raises(ValueError, match="output at vertex V - 1"):
        GEDIndex(bad)
