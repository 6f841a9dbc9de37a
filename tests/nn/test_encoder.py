import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gnnas import ArchSpec, GINEncoder
from gnnas.nn import cells_to_batch

from .cells import random_cells


def permuted(cell: ArchSpec, rng: np.random.Generator) -> ArchSpec:
    """The same cell with its interior vertices renumbered (topological order kept)."""
    size = cell.num_vertices
    for _ in range(100):
        order = np.concatenate([[0], 1 + rng.permutation(size - 2), [size - 1]])
        matrix = cell.matrix[np.ix_(order, order)]
        if not np.tril(matrix).any():
            return ArchSpec(matrix, [cell.ops[i] for i in order])
    return cell


def test_repr_and_config():
    encoder = GINEncoder()
    assert repr(encoder) == ("GINEncoder(5, 32, hidden_channels=64, num_layers=3, direction='both', "
                             "pooling='flatten')")
    assert GINEncoder(**encoder.get_config()).get_config() == encoder.get_config()


@pytest.mark.parametrize("direction", ["both", "forward", "reverse", "undirected"])
@pytest.mark.parametrize("pooling", ["mean", "sum", "max", "flatten"])
def test_shapes(direction, pooling):
    torch.manual_seed(0)
    encoder = GINEncoder(hidden_channels=16, out_channels=8, num_layers=2, direction=direction,
                         pooling=pooling, norm="batch", dropout=0.1)
    batch = cells_to_batch(random_cells(5, seed=0))
    assert encoder(batch.x, batch.edge_index, batch.batch).shape == (5, 8)
    single = random_cells(1, seed=1)[0].to_data()
    encoder.eval()
    assert encoder(single.x, single.edge_index).shape == (1, 8)


@pytest.mark.parametrize("pooling", ["mean", "flatten"])
def test_batched_equals_one_by_one(pooling):
    torch.manual_seed(0)
    encoder = GINEncoder(norm="layer", pooling=pooling).eval()
    cells = random_cells(6, seed=2)
    batch = cells_to_batch(cells)
    together = encoder(batch.x, batch.edge_index, batch.batch)
    alone = torch.cat([encoder(d.x, d.edge_index) for d in (c.to_data() for c in cells)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_direction_matters():
    # a chain input -> conv3x3 -> maxpool -> output and the chain with the two ops swapped have the same
    # undirected graph up to reversal; only a direction-aware encoder tells them apart
    chain = np.diag([1, 1, 1], k=1)
    a = ArchSpec(chain, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    b = ArchSpec(chain, ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    batch = cells_to_batch([a, b])
    for direction in ("both", "forward", "reverse"):
        torch.manual_seed(0)
        encoder = GINEncoder(direction=direction, positional=False)
        z = encoder(batch.x, batch.edge_index, batch.batch)
        assert not torch.allclose(z[0], z[1])


def test_positional_and_invariance():
    rng = np.random.default_rng(3)
    cells = [c for c in random_cells(40, seed=3) if c.num_vertices >= 5][:10]
    others = [permuted(c, rng) for c in cells]
    assert all(a == b for a, b in zip(cells, others, strict=True))  # same cells (isomorphic)
    differs = [a.to_tokens() != b.to_tokens() for a, b in zip(cells, others, strict=True)]
    assert any(differs)
    first, second = cells_to_batch(cells), cells_to_batch(others)
    torch.manual_seed(0)
    invariant = GINEncoder(positional=False, pooling="mean")
    assert torch.allclose(invariant(first.x, first.edge_index, first.batch),
                          invariant(second.x, second.edge_index, second.batch), atol=1e-5)
    torch.manual_seed(0)
    positional = GINEncoder(positional=True)
    za = positional(first.x, first.edge_index, first.batch)
    zb = positional(second.x, second.edge_index, second.batch)
    close = torch.isclose(za, zb, atol=1e-5).all(dim=1)
    assert not close[torch.tensor(differs)].any()


def test_reset_parameters():
    torch.manual_seed(0)
    encoder = GINEncoder()
    batch = cells_to_batch(random_cells(3, seed=4))
    before = encoder(batch.x, batch.edge_index, batch.batch)
    torch.manual_seed(0)
    encoder.reset_parameters()
    after = encoder(batch.x, batch.edge_index, batch.batch)
    assert before.shape == after.shape and not torch.allclose(before, after)


def test_bad_input():
    encoder = GINEncoder()
    batch = cells_to_batch(random_cells(2, seed=5))
    with pytest.raises(ValueError, match="x must have shape"):
        encoder(batch.x[:, :4], batch.edge_index, batch.batch)
    with pytest.raises(ValueError, match="edge_index must have shape"):
        encoder(batch.x, batch.edge_index[0], batch.batch)
    with pytest.raises(ValueError, match="outside"):
        encoder(batch.x, batch.edge_index + 100, batch.batch)
    with pytest.raises(ValueError, match="batch must have shape"):
        encoder(batch.x, batch.edge_index, batch.batch[:-1])
    big = Batch.from_data_list([random_cells(1, seed=6)[0].to_data()] * 2)
    with pytest.raises(ValueError, match="at most 7 vertices"):
        encoder(big.x, big.edge_index)  # 2 cells seen as one graph of more than 7 vertices
    for kwargs, match in [({"pooling": "median"}, "pooling"), ({"norm": "group"}, "norm"),
                          ({"direction": "up"}, "direction"), ({"hidden_channels": 63}, "odd"),
                          ({"num_layers": 0}, "num_layers"), ({"dropout": 1.0}, "dropout")]:
        with pytest.raises(ValueError, match=match):
            GINEncoder(**kwargs)
