"""Tests of gnnas.space.CellArray: construction, checks, indexing, the packed forms and the PyG batch,
each against a plain per-cell reference (ArchSpec, a bit loop, Batch.from_data_list)."""

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gnnas import ArchSpec
from gnnas.space import OPS, CellArray, module_hash
from gnnas.space.cell_array import _layout_errors
from gnnas.transforms.anchor import Anchor
from tests.transforms.cells import CHAIN3, DIAMOND, TRIVIAL, random_cells

CELLS = random_cells(300, seed=11) + [TRIVIAL, CHAIN3, DIAMOND]


def padded_reference(spec: ArchSpec) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.zeros((7, 7), dtype=np.uint8)
    matrix[: spec.num_vertices, : spec.num_vertices] = spec.matrix
    ops = [OPS.index(op) for op in spec.ops]
    return matrix, np.array(ops + [-1] * (7 - len(ops)))


def test_from_specs_against_each_spec():
    cells = CellArray.from_specs(CELLS)
    assert repr(cells) == "CellArray(num_cells=303)" and len(cells) == 303
    assert cells.matrices.dtype == np.uint8 and cells.op_indices.dtype == np.int8
    for i, spec in enumerate(CELLS):
        matrix, ops = padded_reference(spec)
        assert cells.matrices[i].tolist() == matrix.tolist()
        assert cells.op_indices[i].tolist() == ops.tolist()
        assert cells.num_vertices[i] == spec.num_vertices
        assert cells[i] == spec and cells.spec(i).hash == spec.hash
    assert cells.specs() == CELLS and list(cells) == CELLS
    assert CellArray.from_specs([spec.to_data() for spec in CELLS[:20]]).matrices.tolist() == \
        cells.matrices[:20].tolist()
    empty = CellArray.from_specs([])
    assert [a.shape for a in (empty.matrices, empty.op_indices, empty.num_vertices, empty.hashes)] == \
        [(0, 7, 7), (0, 7), (0,), (0,)]


def test_hashes_given_or_computed():
    fresh = [ArchSpec(spec.matrix, spec.ops) for spec in CELLS]  # no hash computed yet
    computed = CellArray.from_specs(fresh)
    assert computed._hashes is None
    reference = [module_hash(spec.matrix, spec.ops) for spec in CELLS]
    assert computed.hashes.tolist() == reference
    known = CellArray.from_specs(CELLS[:5])  # CELLS know their hashes: reused
    assert known._hashes is not None and known.hashes.tolist() == reference[:5]
    assert CellArray(known.matrices, known.op_indices).hashes.tolist() == reference[:5]
    assert not computed.hashes.flags.writeable and not computed.matrices.flags.writeable
    with pytest.raises(ValueError):
        computed.matrices[0, 0, 1] = 0


def test_degrees_and_old_padded_layout():
    cells = CellArray.of([CHAIN3, DIAMOND])
    assert cells.op_indices[0].tolist() == [0, 1, 4, -1, -1, -1, -1]
    assert cells.in_degree[1].tolist() == [0, 1, 1, 2, 0, 0, 0]
    assert cells.out_degree[1].tolist() == [2, 1, 1, 0, 0, 0, 0]
    assert cells.spec(1) == DIAMOND and cells[[1]].spec(0) == DIAMOND
    many = CellArray.from_specs(CELLS)
    assert (many.in_degree == many.matrices.sum(axis=1)).all()
    assert (many.out_degree == many.matrices.sum(axis=2)).all()


def test_indexing():
    cells = CellArray.from_specs(CELLS)
    assert cells[-1] == CELLS[-1] and cells[np.int64(3)] == CELLS[3]
    part = cells[np.array([4, 0, 4])]
    assert isinstance(part, CellArray) and part.specs() == [CELLS[4], CELLS[0], CELLS[4]]
    assert part.hashes.tolist() == [CELLS[4].hash, CELLS[0].hash, CELLS[4].hash]
    assert cells[2:5].specs() == CELLS[2:5] and cells[[7]].specs() == [CELLS[7]]
    mask = np.zeros(len(cells), dtype=bool)
    mask[[1, 9]] = True
    assert cells[mask].specs() == [CELLS[1], CELLS[9]]
    assert len(cells[np.array([], dtype=np.int64)]) == 0
    with pytest.raises(IndexError):
        cells[len(cells)]
    with pytest.raises(IndexError):
        cells[np.array([0, len(cells)])]


def test_pack_and_unpack_against_a_bit_loop():
    cells = CellArray.from_specs(CELLS)
    words = cells.pack()
    assert words.dtype == np.uint64
    for i, spec in enumerate(CELLS):
        reference = sum(1 << (7 * int(a) + int(b)) for a, b in zip(*np.nonzero(spec.matrix), strict=True))
        assert int(words[i]) == reference
    again = CellArray.unpack(words, cells.op_indices, cells.hashes)
    assert again.specs() == CELLS and (again.matrices == cells.matrices).all()
    assert again.hashes.tolist() == cells.hashes.tolist()


def test_successors_against_anchor_rows():
    cells = CellArray.from_specs(CELLS)
    masks = cells.successors()
    for i, spec in enumerate(CELLS):
        rows = Anchor(spec).rows
        assert masks[i, : len(rows)].tolist() == list(rows) and not masks[i, len(rows):].any()


def test_to_batch_matches_from_data_list():
    cells = CellArray.from_specs(CELLS)
    batch = cells.to_batch(y=torch.arange(len(CELLS)))
    reference = []
    for i, spec in enumerate(CELLS):
        data = spec.to_data()
        data.tokens = torch.tensor([spec.to_tokens()])
        data.y = torch.tensor([i])
        reference.append(data)
    expected = Batch.from_data_list(reference)
    assert set(expected.keys()) == set(batch.keys())
    for key in expected.keys():
        if torch.is_tensor(expected[key]):
            assert torch.equal(expected[key], batch[key]) and expected[key].dtype == batch[key].dtype
        else:
            assert expected[key] == batch[key]
    for key in expected._slice_dict:
        assert torch.equal(expected._slice_dict[key], batch._slice_dict[key])
        assert torch.equal(expected._inc_dict[key], batch._inc_dict[key])
    assert batch.num_graphs == len(CELLS)
    for k in (0, 7, len(CELLS) - 1):
        names = ["x", "edge_index", "tokens", "y"]
        assert all(torch.equal(batch[k][name], reference[k][name]) for name in names)


def test_of_accepts_every_form_of_many_cells(space):
    cells = CellArray.from_specs(CELLS)
    assert CellArray.of(cells) is cells
    assert CellArray.of(space) is space.cells and isinstance(space.cells, CellArray)

    class Table:  # anything with the arrays in this layout
        matrices = cells.matrices
        op_indices = cells.op_indices
        hashes = cells.hashes

    assert CellArray.of(Table()).specs() == CELLS
    assert CellArray.of(CELLS).specs() == CELLS
    with pytest.raises(ValueError, match="sequence of ArchSpec"):
        CellArray.of("cells")
    with pytest.raises(ValueError, match=r"cells\[1\]"):
        CellArray.of([CHAIN3, "not a cell"])
    with pytest.raises(ValueError, match=r"candidates\[0\]"):
        CellArray.of([42], "candidates")


def zeros(n: int = 1) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n, 7, 7), dtype=np.uint8), np.full((n, 7), -1, dtype=np.int8)


def chain(ops: list[int]) -> tuple[np.ndarray, np.ndarray]:
    matrices, op_indices = zeros()
    for v in range(len(ops) - 1):
        matrices[0, v, v + 1] = 1
    op_indices[0, : len(ops)] = ops
    return matrices, op_indices


def test_the_layout_is_checked():
    CellArray(*chain([0, 1, 4]))  # input → conv3x3 → output
    bad = {
        "dangling vertex": lambda m, o: (m.__setitem__((0, 1, 2), 0), m.__setitem__((0, 0, 2), 1)),
        "no output": lambda m, o: o.__setitem__((0, 2), 1),
        "input inside": lambda m, o: o.__setitem__((0, 1), 0),
        "output inside": lambda m, o: o.__setitem__((0, 1), 4),
        "unknown op": lambda m, o: o.__setitem__((0, 1), 5),
        "below -1": lambda m, o: o.__setitem__((0, 4), -2),
        "edge on padding": lambda m, o: m.__setitem__((0, 2, 3), 1),
        "lower triangle": lambda m, o: m.__setitem__((0, 2, 0), 1),
        "not 0/1": lambda m, o: m.__setitem__((0, 0, 1), 2),
        "gap in ops": lambda m, o: o.__setitem__((0, 4), 1),
    }
    for damage in bad.values():
        matrices, op_indices = chain([0, 1, 4])
        damage(matrices, op_indices)
        with pytest.raises(ValueError, match="not pruned cells in the padded layout"):
            CellArray(matrices, op_indices)
        CellArray(matrices, op_indices, validate=False)  # trusted arrays are not checked
    dense = np.triu(np.ones((7, 7), dtype=np.uint8), k=1)[None]  # 21 edges
    with pytest.raises(ValueError, match="output at vertex V - 1"):
        CellArray(dense, np.array([[0, 1, 1, 1, 1, 1, 4]]))
    with pytest.raises(ValueError, match=r"\(N, 7, 7\)"):
        CellArray(np.zeros((2, 5, 5)), np.zeros((2, 7)))
    with pytest.raises(ValueError, match=r"\(N, 7\)"):
        CellArray(*zeros(2)[:1], np.zeros((2, 6)))
    with pytest.raises(ValueError, match="hashes"):
        CellArray(*chain([0, 4]), hashes=["a", "b"])
    with pytest.raises(ValueError, match="first: row 1"):
        CellArray(np.concatenate([chain([0, 4])[0], zeros()[0]]),
                  np.concatenate([chain([0, 4])[1], zeros()[1]]))


def test_old_names_warn_and_lead_here():
    import gnnas.ged
    from gnnas.space import pack_cells

    with pytest.warns(DeprecationWarning, match="CellArray.from_specs"):
        matrices, op_indices, num_vertices = pack_cells(CELLS)
    cells = CellArray.from_specs(CELLS)
    assert (matrices == cells.matrices).all() and (op_indices == cells.op_indices).all()
    assert (num_vertices == cells.num_vertices).all()
    with pytest.warns(DeprecationWarning, match="gnnas.space.CellArray"):
        assert gnnas.ged.CellTable is CellArray
    with pytest.raises(AttributeError):
        gnnas.ged.NoSuchName  # noqa: B018


def layout_ok_reference(matrix: np.ndarray, ops: np.ndarray) -> bool:
    """Whether one padded row is a pruned cell, decided by ArchSpec (which validates and prunes)."""
    v = int((ops >= 0).sum())
    if v < 2 or (ops[v:] != -1).any() or (ops[:v] < 0).any() or (ops[:v] >= len(OPS)).any():
        return False
    if matrix.max() > 1 or matrix[v:].any() or matrix[:, v:].any():
        return False
    try:
        spec = ArchSpec(matrix[:v, :v], [OPS[k] for k in ops[:v]])
    except ValueError:
        return False
    return not spec.was_pruned


def test_the_layout_check_against_archspec_on_damaged_rows():
    rng = np.random.default_rng(5)
    good = CellArray.from_specs(random_cells(400, seed=12) + [TRIVIAL, CHAIN3, DIAMOND])
    matrices, op_indices = good.matrices.copy(), good.op_indices.copy()
    for row in range(len(good)):  # 0 to 3 random damages a row: a flipped bit, an op, a value
        for _ in range(int(rng.integers(0, 4))):
            kind = rng.integers(3)
            i, j = rng.integers(0, 7, size=2)
            if kind == 0:
                matrices[row, i, j] ^= 1
            elif kind == 1:
                op_indices[row, i] = rng.integers(-2, 6)
            else:
                matrices[row, i, j] = rng.integers(0, 3)
    bad = _layout_errors(matrices, op_indices)
    expected = np.array([not layout_ok_reference(m, o) for m, o in zip(matrices, op_indices, strict=True)])
    assert 0.3 < expected.mean() < 0.9  # both kinds of row are tested
    assert (bad == expected).all()
    assert not _layout_errors(good.matrices, good.op_indices).any()
