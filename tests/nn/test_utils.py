import numpy as np
import pytest
import torch

from gnnas import ArchSpec
from gnnas.nn import cell_to_data, cells_to_batch, is_grammatical, tokens_to_cells
from gnnas.space.tokens import OP_TOKENS, slot_layout

from .cells import random_cells

# token of each op index of gnnas.space.OPS (input, conv3x3, conv1x1, maxpool3x3, output)
OP_INDEX_TOKEN = np.array([0, OP_TOKENS["conv3x3-bn-relu"], OP_TOKENS["conv1x1-bn-relu"],
                           OP_TOKENS["maxpool3x3"], OP_TOKENS["output"]])


def packed_tokens(matrices: np.ndarray, op_indices: np.ndarray, num_vertices: np.ndarray) -> np.ndarray:
    """Vectorised token sequences of packed cells (the layout of gnnas.space.CellSpace)."""
    tokens = np.zeros((len(num_vertices), 27), dtype=np.int64)
    for position, (j, i) in enumerate(slot_layout()):
        present = j < num_vertices
        value = (1 + matrices[:, i, j]) if i < j else OP_INDEX_TOKEN[np.maximum(op_indices[:, j], 0)]
        tokens[:, position] = np.where(present, value, 0)
    return tokens


def test_token_round_trip_random_cells():
    cells = random_cells(3000, seed=0)
    for cell in cells:
        tokens = cell.to_tokens()
        back = ArchSpec.from_tokens(tokens)
        assert back == cell
        assert back.matrix.tolist() == cell.matrix.tolist() and back.ops == cell.ops
    tokens = torch.tensor([cell.to_tokens() for cell in cells])
    assert is_grammatical(tokens).all()
    assert tokens_to_cells(tokens) == cells
    # rows seen before come from a cache: the same cells, with the same matrices, ops and hashes
    again = tokens_to_cells(torch.cat([tokens[:50], tokens[:50]]))
    assert again == cells[:50] * 2 and [c.hash for c in again[50:]] == [c.hash for c in cells[:50]]
    for a, c in zip(again, cells[:50] * 2, strict=True):
        assert a.matrix.tolist() == c.matrix.tolist() and a.ops == c.ops


def test_whole_space_is_grammatical(space):
    tokens = packed_tokens(space.matrices, space.op_indices, space.num_vertices)
    rng = np.random.default_rng(0)
    for index in rng.choice(len(space), size=2000, replace=False):
        cell = space[int(index)]
        assert tokens[index].tolist() == cell.to_tokens()
        assert ArchSpec.from_tokens(cell.to_tokens()) == cell
    # every cell of the space can be emitted by the masked decoder
    assert is_grammatical(torch.from_numpy(tokens)).all()


def test_cells_to_batch():
    cells = random_cells(4, seed=1)
    batch = cells_to_batch(cells)
    assert batch.num_graphs == 4
    assert batch.tokens.shape == (4, 27) and batch.tokens.dtype == torch.long
    assert batch.tokens.tolist() == [cell.to_tokens() for cell in cells]
    assert batch.x.shape == (sum(c.num_vertices for c in cells), 5)
    assert batch.batch.tolist() == [i for i, c in enumerate(cells) for _ in range(c.num_vertices)]
    assert [ArchSpec.from_data(d) for d in batch.to_data_list()] == cells
    data = cell_to_data(cells[0])
    assert data.tokens.shape == (1, 27)


def test_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        cells_to_batch([])
    with pytest.raises(ValueError, match="wrap"):
        cells_to_batch(random_cells(1, seed=0)[0])
    with pytest.raises(ValueError, match="ArchSpec"):
        cells_to_batch(["not a cell"])
    with pytest.raises(ValueError, match=r"\(B, 27\)"):
        tokens_to_cells(torch.zeros(27, dtype=torch.long))
    for _ in range(2):  # a row that is not a cell fails every time (errors are not cached)
        with pytest.raises(ValueError):
            tokens_to_cells(torch.zeros(1, 27, dtype=torch.long))


def test_cells_to_batch_takes_a_cell_array_and_matches_from_data_list():
    from torch_geometric.data import Batch

    from gnnas.space import CellArray

    cells = random_cells(40, seed=9)
    expected = Batch.from_data_list([cell_to_data(cell) for cell in cells])  # the plain reference
    for given in (cells, CellArray.from_specs(cells), iter(cells)):
        batch = cells_to_batch(given)
        assert set(batch.keys()) == set(expected.keys())
        assert all(torch.equal(batch[k], expected[k]) for k in ("x", "edge_index", "tokens", "batch", "ptr"))
        assert [g.num_nodes for g in batch.to_data_list()] == [c.num_vertices for c in cells]
