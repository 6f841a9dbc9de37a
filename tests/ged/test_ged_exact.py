import numpy as np
import pytest
import torch
from ged_helpers import edited, networkx_ged, random_cell, renumbered
from torch_geometric.data import Data

from gnnas import ArchSpec, graph_edit_distance
from gnnas.ged import paired_ged, pairwise_ged


def chain(ops: list[str]) -> ArchSpec:
    v = len(ops)
    return ArchSpec(np.eye(v, k=1, dtype=int), ops)


def test_hand_built():
    a = chain(["input", "conv3x3-bn-relu", "output"])
    b = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    assert graph_edit_distance(a, a) == 0
    assert graph_edit_distance(a, b) == 2  # relabel the middle vertex, insert input -> output
    c = ArchSpec([[0, 1], [0, 0]], ["input", "output"])
    # free: relabel conv3x3 to output, delete the old output and its edge
    assert graph_edit_distance(a, c) == 3
    assert graph_edit_distance(c, a) == 3
    # pinned: delete conv3x3 and its two edges, insert input -> output
    assert graph_edit_distance(a, c, pin_io=True) == 4
    assert graph_edit_distance(c, a, pin_io=True) == 4


def _pairs(rng: np.random.Generator) -> list[tuple[ArchSpec, ArchSpec]]:
    """Small, isomorphic, identical, one or two edits apart, and random pairs of all sizes."""
    pairs = []
    for _ in range(60):
        pairs.append((random_cell(rng, int(rng.integers(2, 6))), random_cell(rng, int(rng.integers(2, 6)))))
    for _ in range(25):
        a = random_cell(rng, 7)
        pairs.append((a, renumbered(rng, a)))
        pairs.append((a, a))
    for _ in range(50):
        a = random_cell(rng, int(rng.integers(4, 8)))
        pairs.append((a, edited(rng, a, int(rng.integers(1, 3)))))
    for _ in range(60):
        pairs.append((random_cell(rng), random_cell(rng)))
    for _ in range(15):  # networkx needs up to seconds for a far pair of 7-vertex cells
        pairs.append((random_cell(rng, 7), random_cell(rng, 7)))
    return pairs


@pytest.mark.parametrize("pin_io", [False, True])
def test_matches_networkx(pin_io):
    rng = np.random.default_rng(2026 + pin_io)
    pairs = _pairs(rng)
    expected = [networkx_ged(a, b, pin_io) for a, b in pairs]
    got = [graph_edit_distance(a, b, pin_io=pin_io) for a, b in pairs]
    assert got == expected
    # the batched forms agree with the single-pair form
    a_cells, b_cells = zip(*pairs, strict=True)
    assert paired_ged(list(a_cells), list(b_cells), pin_io=pin_io).tolist() == expected


def test_zero_exactly_for_equal_hashes_and_symmetry():
    rng = np.random.default_rng(7)
    cells = [random_cell(rng) for _ in range(60)]
    cells += [renumbered(rng, c) for c in cells[:20]]
    for pin_io in (False, True):
        d = pairwise_ged(cells, pin_io=pin_io)
        same = np.array([[a.hash == b.hash for b in cells] for a in cells])
        assert ((d == 0) == same).all()
        assert (d == d.T).all()
    assert (pairwise_ged(cells, pin_io=True) >= pairwise_ged(cells)).all()


def test_triangle_inequality():
    rng = np.random.default_rng(11)
    cells = [random_cell(rng) for _ in range(40)] + [edited(rng, random_cell(rng, 7), 1) for _ in range(20)]
    for pin_io in (False, True):
        d = pairwise_ged(cells, pin_io=pin_io).astype(np.int64)
        assert (d[:, None, :] <= d[:, :, None] + d[None, :, :]).all()  # d(i,k) <= d(i,j) + d(j,k)


def test_pairwise_equals_loop():
    rng = np.random.default_rng(5)
    a = [random_cell(rng) for _ in range(12)]
    b = [random_cell(rng) for _ in range(17)]
    for pin_io in (False, True):
        loop = [[graph_edit_distance(x, y, pin_io=pin_io) for y in b] for x in a]
        assert pairwise_ged(a, b, pin_io=pin_io).tolist() == loop
        assert pairwise_ged(b, a, pin_io=pin_io).tolist() == np.array(loop).T.tolist()
    assert pairwise_ged(a, b).dtype == np.int32 and pairwise_ged(a, b).shape == (12, 17)
    assert pairwise_ged([], b).shape == (0, 17)


def test_data_input():
    rng = np.random.default_rng(3)
    a, b = random_cell(rng, 7), random_cell(rng, 6)
    assert graph_edit_distance(a.to_data(), b.to_data()) == graph_edit_distance(a, b)
    assert graph_edit_distance(a.to_data(), b) == graph_edit_distance(a, b)


def test_invalid_input():
    cell = chain(["input", "conv3x3-bn-relu", "output"])
    with pytest.raises(ValueError, match="ArchSpec or a PyG Data"):
        graph_edit_distance(cell, "not a cell")
    with pytest.raises(ValueError, match="ArchSpec or a PyG Data"):
        graph_edit_distance(np.eye(3), cell)
    bad = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="not a valid NAS-Bench-101 cell"):
        graph_edit_distance(cell, bad)
    unreachable = Data(x=torch.eye(5)[[0, 1, 4]], edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="output is not reachable"):
        graph_edit_distance(unreachable, cell)
    with pytest.raises(ValueError, match="same length"):
        paired_ged([cell], [cell, cell])
    with pytest.raises(ValueError, match="must be a sequence"):
        pairwise_ged(cell, [cell])
    with pytest.raises(ValueError, match=r"cells_b\[1\]"):
        pairwise_ged([cell], [cell, 3])


def test_threads_are_bounded_by_the_cores(monkeypatch):
    """``num_workers`` far above the cores starts no more threads than cores, with the same result."""
    import gnnas.ged.exact as exact
    import gnnas.workers

    started = []
    real = exact.ThreadPoolExecutor
    monkeypatch.setattr(exact, "ThreadPoolExecutor", lambda max_workers: started.append(max_workers)
                        or real(max_workers=max_workers))
    monkeypatch.setattr(exact, "_PARALLEL_MIN", 1)  # take the threaded path on a small matrix
    monkeypatch.setattr(gnnas.workers, "available_cores", lambda: 3)
    rng = np.random.default_rng(5)
    cells = [random_cell(rng) for _ in range(40)]
    expected = pairwise_ged(cells, cells, num_workers=1)
    assert started == []
    assert np.array_equal(pairwise_ged(cells, cells, num_workers=10**9), expected)
    assert started and max(started) <= 3
    with pytest.raises(ValueError, match="num_workers"):
        pairwise_ged(cells, cells, num_workers=0)
