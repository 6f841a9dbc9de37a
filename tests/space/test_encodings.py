"""Tests of gnnas.space.encodings: hand-checked cells, a networkx path reference, isomorphism."""

import itertools

import networkx as nx
import numpy as np
import pytest

from gnnas import ArchSpec
from gnnas.space import INTERIOR_OPS
from gnnas.space.encodings import (
    NUM_PATHS,
    ONEHOT_SIZE,
    cell_paths,
    onehot_encoding,
    path_encoding,
    path_index,
)
from tests.ged.ged_helpers import random_cell, renumbered, to_networkx

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"

# the first row of nb101_subset_30k.csv (hash 00005c14...): 0->1, 0->4, 0->5, 1->2, 2->3, 2->6,
# 3->5, 4->5, 5->6 with ops input, c3, mp, c3, c3, c1, output
TABLE_CELL = ArchSpec.from_strings("0100110001000000010010000010000001000000010000000",
                                   "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,"
                                   "conv1x1-bn-relu,output")


def nonzero(row: np.ndarray) -> list[int]:
    return np.flatnonzero(row).tolist()


def test_sizes():
    assert NUM_PATHS == 1 + 3 + 9 + 27 + 81 + 243 == 364
    assert ONEHOT_SIZE == 21 + 15 == 36
    cells = [random_cell(np.random.default_rng(k)) for k in range(5)]
    assert path_encoding(cells).shape == (5, 364) and path_encoding(cells).dtype == np.float32
    assert onehot_encoding(cells).shape == (5, 36) and onehot_encoding(cells).dtype == np.float32
    assert path_encoding([]).shape == (0, 364)


def test_path_index_numbering():
    assert path_index(()) == 0
    assert [path_index((op,)) for op in (C3, C1, MP)] == [1, 2, 3]
    assert path_index((C3, C3)) == 4 and path_index((MP, MP)) == 12
    assert path_index((MP,) * 5) == 363
    # every op sequence of length 0..5 has its own index, and together they fill 0..363
    indices = [path_index(seq) for k in range(6) for seq in itertools.product(INTERIOR_OPS, repeat=k)]
    assert sorted(indices) == list(range(364))


def test_hand_checked_table_cell():
    # paths: 0-1-2-6 (c3, mp), 0-1-2-3-5-6 (c3, mp, c3, c1), 0-4-5-6 (c3, c1), 0-5-6 (c1)
    assert sorted(cell_paths(TABLE_CELL)) == sorted([(C3, MP), (C3, MP, C3, C1), (C3, C1), (C1,)])
    # (c1) = 2; (c3, c1) = 1 + 3*2 = 7; (c3, mp) = 1 + 3*3 = 10; (c3, mp, c3, c1) = 1 + 9 + 9*1 + 27*2 = 73
    assert nonzero(path_encoding([TABLE_CELL])[0]) == [2, 7, 10, 73]
    # upper-triangle positions: (0,1) 0, (0,4) 3, (0,5) 4, (1,2) 6, (2,3) 11, (2,6) 14, (3,5) 16,
    # (4,5) 18, (5,6) 20; ops: slot 1 c3 21, slot 2 mp 24+2, slot 3 c3 27, slot 4 c3 30, slot 5 c1 33+1
    assert nonzero(onehot_encoding([TABLE_CELL])[0]) == [0, 3, 4, 6, 11, 14, 16, 18, 20, 21, 26, 27, 30, 34]


def test_hand_checked_small_cells():
    direct = ArchSpec([[0, 1], [0, 0]], ["input", "output"])
    assert cell_paths(direct) == [()]
    assert nonzero(path_encoding([direct])[0]) == [0]
    assert nonzero(onehot_encoding([direct])[0]) == [5]  # the edge (0, 6): the output sits in slot 6

    # two branches through different ops, plus a shortcut: (), (c3), (mp)
    branches = ArchSpec([[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    assert nonzero(path_encoding([branches])[0]) == [0, 1, 3]
    # edges (0,1) 0, (0,2) 1, (0,6) 5, (1,6) 10, (2,6) 14; ops slot 1 c3 21, slot 2 mp 26
    assert nonzero(onehot_encoding([branches])[0]) == [0, 1, 5, 10, 14, 21, 26]

    # two branches with the same op give one path bit, not two
    twins = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, C3, "output"])
    assert cell_paths(twins) == [(C3,), (C3,)]
    assert nonzero(path_encoding([twins])[0]) == [1]

    # the longest path: five interior ops in a chain
    chain_ops = [C1, C1, C3, MP, C3]
    chain = ArchSpec(np.eye(7, k=1, dtype=np.uint8), ["input", *chain_ops, "output"])
    assert nonzero(path_encoding([chain])[0]) == [2 + 3 * 2 + 9 * 1 + 27 * 3 + 81 * 1]  # 179
    assert nonzero(onehot_encoding([chain])[0]) == [0, 6, 11, 15, 18, 20, 22, 25, 27, 32, 33]


def test_paths_match_networkx_and_survive_renumbering():
    rng = np.random.default_rng(0)
    for _ in range(200):
        cell = random_cell(rng)
        graph = to_networkx(cell)
        output = cell.num_vertices - 1
        expected = sorted(tuple(cell.ops[v] for v in path[1:-1])
                          for path in nx.all_simple_paths(graph, 0, output))
        assert sorted(cell_paths(cell)) == expected
        row = np.zeros(364, dtype=np.float32)
        row[[path_index(p) for p in expected]] = 1
        assert (path_encoding([cell])[0] == row).all()
        twin = renumbered(rng, cell)
        assert twin.hash == cell.hash
        assert (path_encoding([twin]) == path_encoding([cell])).all()


def test_onehot_reads_back_the_cell():
    rng = np.random.default_rng(1)
    upper = np.triu_indices(7, 1)
    for _ in range(200):
        cell = random_cell(rng)
        row = onehot_encoding([cell])[0]
        v = cell.num_vertices
        matrix = np.zeros((7, 7), dtype=np.uint8)
        matrix[upper] = row[:21]
        slots = [*range(v - 1), 6]
        assert (matrix[np.ix_(slots, slots)] == cell.matrix).all()
        assert matrix.sum() == cell.num_edges  # nothing outside the cell's slots
        ops = row[21:].reshape(5, 3)
        assert (ops.sum(1) == [1] * (v - 2) + [0] * (7 - v)).all()
        assert [INTERIOR_OPS[k] for k in ops[:v - 2].argmax(1)] == list(cell.ops[1:-1])


def test_bad_input():
    cell = random_cell(np.random.default_rng(2))
    with pytest.raises(ValueError, match="wrap a single cell in a list"):
        path_encoding(cell)
    with pytest.raises(ValueError, match="at position 1"):
        onehot_encoding([cell, "not a cell"])
    with pytest.raises(ValueError, match="at most 5 interior ops"):
        path_index((C3,) * 6)
    with pytest.raises(ValueError, match="must be one of"):
        path_index(("output",))
    with pytest.raises(ValueError, match="expected an ArchSpec"):
        cell_paths("cell")
