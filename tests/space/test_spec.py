import pickle

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from gnnas import ArchSpec
from gnnas.space import OPS, prune

TEST_ADJ = "0100110001000000010010000010000001000000010000000"
TEST_OPS = "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"
TEST_HASH = "00005c142e6f48ac74fdcf73e3439874"


def small_spec() -> ArchSpec:
    return ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                    ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])


def test_repr_and_basics():
    spec = small_spec()
    assert repr(spec) == ("ArchSpec(adjacency='0110000100010000', "
                          "ops=['input', 'conv3x3-bn-relu', 'maxpool3x3', 'output'])")
    assert spec.num_vertices == 4
    assert spec.num_edges == 4
    assert spec.ops == ("input", "conv3x3-bn-relu", "maxpool3x3", "output")
    assert spec.matrix.tolist() == [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert not spec.was_pruned


def test_test_vector():
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    assert spec.hash == TEST_HASH
    assert spec.to_strings() == (TEST_ADJ, TEST_OPS)


def test_immutable():
    spec = small_spec()
    with pytest.raises(ValueError):
        spec.matrix[0, 1] = 0
    with pytest.raises(AttributeError):
        spec._ops = ("input", "output")


def test_equality_is_isomorphism():
    a = small_spec()
    # swap the two interior vertices
    b = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                 ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    c = ArchSpec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                 ["input", "maxpool3x3", "maxpool3x3", "output"])
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert pickle.loads(pickle.dumps(a)) == a


def test_pruning():
    # vertex 2 is a dead end (no path to output), vertex 3 is not reachable from input
    matrix = [[0, 1, 1, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"]
    spec = ArchSpec(matrix, ops)
    assert spec.matrix.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert spec.ops == ("input", "conv3x3-bn-relu", "output")
    assert spec.was_pruned
    pruned_matrix, pruned_ops = prune(matrix, ops)
    assert pruned_matrix.tolist() == spec.matrix.tolist() and pruned_ops == spec.ops


def _permute(matrix: np.ndarray, ops, perm):
    """Renumbers the interior vertices of a cell by ``perm`` and restores upper triangularity."""
    num = len(ops)
    order = [0, *[1 + p for p in perm], num - 1]
    new = np.zeros_like(matrix)
    position = {old: new_index for new_index, old in enumerate(order)}
    for i, j in zip(*np.nonzero(matrix), strict=True):
        new[position[i], position[j]] = 1
    return new, [ops[old] for old in order]


def test_hash_invariant_under_renumbering():
    rng = np.random.default_rng(0)
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    seen = 0
    for _ in range(200):
        perm = rng.permutation(spec.num_vertices - 2)
        matrix, ops = _permute(spec.matrix, spec.ops, perm)
        if np.tril(matrix).any():  # this renumbering is not a topological order
            continue
        assert ArchSpec(matrix, ops).hash == TEST_HASH
        seen += 1
    assert seen > 1


def test_data_round_trip_and_batching():
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    data = spec.to_data()
    assert data.num_nodes == 7
    assert data.x.shape == (7, len(OPS))
    assert data.x.sum(dim=1).tolist() == [1.0] * 7
    assert data.x.argmax(dim=1).tolist() == [0, 1, 3, 1, 1, 2, 4]
    edges = [(i, j) for i in range(7) for j in range(7) if TEST_ADJ[7 * i + j] == "1"]
    assert data.edge_index.t().tolist() == [list(e) for e in edges]
    back = ArchSpec.from_data(data)
    assert back.matrix.tolist() == spec.matrix.tolist() and back.ops == spec.ops
    batch = Batch.from_data_list([spec.to_data(), small_spec().to_data()])
    assert batch.num_graphs == 2 and batch.x.shape == (11, 5)
    assert batch.batch.tolist() == [0] * 7 + [1] * 4
    loader = DataLoader([spec.to_data()] * 5, batch_size=2)
    assert [b.num_graphs for b in loader] == [2, 2, 1]
    assert ArchSpec.from_data(batch.get_example(1)) == small_spec()


def test_tokens():
    spec = ArchSpec.from_strings(TEST_ADJ, TEST_OPS)
    tokens = spec.to_tokens()
    assert tokens == [2, 3, 1, 2, 5, 1, 1, 2, 3, 2, 1, 1, 1, 3, 2, 1, 1, 2, 2, 4, 1, 1, 2, 1, 1, 2, 6]
    assert small_spec().to_tokens() == [2, 3, 2, 1, 5, 1, 2, 2, 6] + [0] * 18
    assert ArchSpec.from_tokens(tokens) == spec
    assert ArchSpec.from_tokens(small_spec().to_tokens()[:9]) == small_spec()


@pytest.mark.parametrize("tokens, message", [
    ([3], "edge slot"),
    ([2, 2], "op slot"),
    ([2, 3, 2, 1, 5, 1, 2, 2, 6, 1], "only padding"),
    ([2, 3], "ends at position"),
    ([0] * 28, "at most 27"),
])
def test_bad_tokens(tokens, message):
    with pytest.raises(ValueError, match=message):
        ArchSpec.from_tokens(tokens)


@pytest.mark.parametrize("matrix, ops, message", [
    ([[0, 1], [0, 0], [0, 0]], ["input", "output"], "square"),
    ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
    ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
    ([[0, 1], [0, 0]], ["input"], "one op per vertex"),
    ([[0, 1], [0, 0]], ["input", "conv5x5"], "unknown ops"),
    ([[0, 1], [0, 0]], ["output", "input"], "first op"),
    ([[0, 1], [0, 0]], ["input", "maxpool3x3"], "last op"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "input", "output"], "interior"),
    ([[0, 0], [0, 0]], ["input", "output"], "not reachable"),
    ([[0]], ["input"], "at least 2"),
    ([[0, 1], [0, 0]], "input,output", "string"),
    ([["a", "b"], ["c", "d"]], ["input", "output"], "0/1 numbers"),
    ([[0, 1], [0, 0]], None, "ops must be a sequence of op names, got None"),
    ([[0, 1], [0, 0]], 7, "ops must be a sequence of op names, got 7"),
    ([[0, 1], [0, 0]], [["input"], "output"], "unknown ops \\[\\['input'\\]\\]"),
    ([[0, 1], [0, 0]], ["input", None], "unknown ops \\[None\\]"),
    ([[0, 1], [0, 0]], ["input", "conv" * 100_000], "unknown ops \\['convconv.*\\.\\.\\."),
    (None, ["input", "output"], "square"),
])
def test_bad_input(matrix, ops, message):
    with pytest.raises(ValueError, match=message) as caught:
        ArchSpec(matrix, ops)
    assert len(str(caught.value)) < 300  # a huge input is not echoed whole


def test_limits():
    full = np.triu(np.ones((8, 8), dtype=int), 1)
    with pytest.raises(ValueError, match="at most 7 vertices"):
        ArchSpec(full, ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"])
    with pytest.raises(ValueError, match="at most 9 edges"):
        ArchSpec(np.triu(np.ones((6, 6), dtype=int), 1), ["input"] + ["conv3x3-bn-relu"] * 4 + ["output"])
    # pruning comes first: 8 vertices given, but vertex 6 is a dead end
    matrix = np.zeros((8, 8), dtype=int)
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 7), (0, 6)]:
        matrix[i, j] = 1
    spec = ArchSpec(matrix, ["input"] + ["conv1x1-bn-relu"] * 6 + ["output"])
    assert spec.num_vertices == 7 and spec.num_edges == 6 and spec.was_pruned


def test_from_strings_errors():
    with pytest.raises(ValueError, match="characters"):
        ArchSpec.from_strings("0100", "input,conv3x3-bn-relu,output")
    with pytest.raises(ValueError, match="only '0' and '1'"):
        ArchSpec.from_strings("0x00", "input,output")


def test_from_data_errors():
    data = small_spec().to_data()
    bad = data.clone()
    bad.x = torch.ones(4, 5)
    with pytest.raises(ValueError, match="one-hot"):
        ArchSpec.from_data(bad)
    bad = data.clone()
    bad.edge_index = torch.tensor([[0], [9]])
    with pytest.raises(ValueError, match="outside"):
        ArchSpec.from_data(bad)


def test_kept_vertices_against_networkx():
    import networkx as nx

    from gnnas.space import kept_vertices

    rng = np.random.default_rng(11)
    for _ in range(500):
        size = int(rng.integers(2, 8))
        matrix = np.triu(rng.random((size, size)) < rng.uniform(0.1, 0.7), k=1).astype(np.uint8)
        graph = nx.DiGraph(list(zip(*np.nonzero(matrix), strict=True)))
        graph.add_nodes_from(range(size))
        on_path = nx.descendants(graph, 0) & nx.ancestors(graph, size - 1)
        expected = sorted(on_path | {0, size - 1}) if size - 1 in nx.descendants(graph, 0) else []
        assert kept_vertices(matrix).tolist() == expected
    with pytest.raises(ValueError, match="strictly upper triangular"):
        kept_vertices([[0, 0], [1, 0]])
