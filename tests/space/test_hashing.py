import hashlib

import numpy as np
import pytest

from gnnas import ArchSpec
from gnnas.space import OPS, CellArray, hash_cells, module_hash
from gnnas.space.hashing import (
    _INDEX_BITS,
    _md5_buffer,
    _md5_digests,
    _module_hash_reference,
    _sort_keys,
    _sort_rows,
)

TEST_ADJ = "0100110001000000010010000010000001000000010000000"
TEST_OPS = "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"
TEST_HASH = "00005c142e6f48ac74fdcf73e3439874"


def packed(cells: list[ArchSpec]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(matrices, op_indices, num_vertices)`` of the cells, the arrays that hash_cells takes."""
    array = CellArray.from_specs(cells)
    return array.matrices, array.op_indices, array.num_vertices


def random_cells(count: int, seed: int) -> list[ArchSpec]:
    """Random valid cells of 2..7 vertices (random upper-triangular matrices, pruned)."""
    rng = np.random.default_rng(seed)
    cells = []
    while len(cells) < count:
        size = int(rng.integers(2, 8))
        matrix = np.triu(rng.random((size, size)) < rng.uniform(0.2, 0.7), k=1).astype(np.uint8)
        ops = ["input", *rng.choice(OPS[1:4], size - 2).tolist(), "output"]
        try:
            cells.append(ArchSpec(matrix, ops))
        except ValueError:
            continue
    return cells


def test_test_vector():
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    assert module_hash(spec.matrix, spec.ops) == TEST_HASH
    assert _module_hash_reference(spec.matrix, spec.ops) == TEST_HASH
    assert hash_cells(*packed([spec])).tolist() == [TEST_HASH]


def test_fast_module_hash_matches_reference():
    for cell in random_cells(1500, seed=0):
        assert module_hash(cell.matrix, cell.ops) == _module_hash_reference(cell.matrix, cell.ops)


def test_hash_cells_matches_module_hash_on_random_cells():
    cells = random_cells(3000, seed=1)
    cells += cells[:50]  # duplicates hash alike
    hashes = hash_cells(*packed(cells))
    assert hashes.dtype == np.dtype("U32") and hashes.shape == (len(cells),)
    assert hashes.tolist() == [module_hash(cell.matrix, cell.ops) for cell in cells]


def test_hash_cells_invariant_under_renumbering():
    rng = np.random.default_rng(2)
    cells, renumbered = random_cells(300, seed=3), []
    for cell in cells:
        size = cell.num_vertices
        # a random topological renumbering keeps input first and output last
        order = [0, *rng.permutation(np.arange(1, size - 1)).tolist(), size - 1]
        matrix = cell.matrix[np.ix_(order, order)]
        if np.tril(matrix).any():  # not upper triangular under this order: keep the original
            order = list(range(size))
            matrix = cell.matrix
        renumbered.append(ArchSpec(matrix, [cell.ops[i] for i in order]))
    assert hash_cells(*packed(cells)).tolist() == hash_cells(*packed(renumbered)).tolist()


def test_hash_cells_on_the_bundled_table():
    """The 30,001 real cells (their official hashes from NAS-Bench-101), each cell built from its strings."""
    from gnnas.nasbench import NASBench101
    from gnnas.nasbench.arrays import cell_strings

    arrays = NASBench101.bundled().arrays
    assert arrays.num_cells == 30_001
    adjacency, operations = cell_strings(arrays.adjacency, arrays.ops, arrays.num_vertices)
    cells = [ArchSpec.from_strings(*strings) for strings in zip(adjacency, operations, strict=True)]
    hashes = hash_cells(*packed(cells))
    assert (hashes == arrays.hashes).all()
    assert [cell.hash for cell in cells] == arrays.hashes.tolist()  # and the scalar module hash


def test_vectorised_md5_matches_hashlib():
    rng = np.random.default_rng(4)
    for length in [0, 1, 34, 55, 56, 63, 64, 65, 98, 119, 120, 130, 183, 184, 226, 252, 300]:
        messages = rng.integers(0, 256, size=(7, length), dtype=np.uint8)
        buffer = _md5_buffer(len(messages), length)
        buffer[:, :length] = messages
        digests = _md5_digests(buffer)
        assert digests.shape == (7, 16)
        assert [row.tobytes() for row in digests] == [hashlib.md5(m.tobytes()).digest() for m in messages]


def test_sort_rows_exact_even_when_top_bits_tie():
    rng = np.random.default_rng(5)
    size = 200
    digests = rng.integers(0, 256, size=(size, 16), dtype=np.uint8)
    digests[:100, :6] = 7  # the first 100 digests share their top 48 bits: ties for the packed key
    digests[50:60] = digests[40]  # and some are equal
    high, low = _sort_keys(digests)
    assert len(np.unique(high[:100] >> np.uint64(_INDEX_BITS))) == 1
    assert len(np.unique(low[:100])) == 90
    for width in range(1, 8):
        index = rng.integers(0, size, size=(500, width))
        index[:250] = rng.integers(0, 100, size=(250, width))
        result = _sort_rows(index, high, low)
        keys = [[digests[i].tobytes() for i in row] for row in result]
        assert keys == [sorted(digests[i].tobytes() for i in row) for row in index]
        assert (np.sort(result, axis=1) == np.sort(index, axis=1)).all()  # a permutation of each row


def test_hash_cells_bad_input():
    matrices, op_indices, num_vertices = packed(random_cells(3, seed=6))
    assert hash_cells(*packed([])).shape == (0,)
    with pytest.raises(ValueError, match="expected matrices"):
        hash_cells(matrices[:, :6, :6], op_indices, num_vertices)
    with pytest.raises(ValueError, match="num_vertices"):
        hash_cells(matrices, op_indices, np.array([1, 3, 3]))
    bad_ops = op_indices.copy()
    bad_ops[:, 0] = 9
    with pytest.raises(ValueError, match="op_indices"):
        hash_cells(matrices, bad_ops, num_vertices)
