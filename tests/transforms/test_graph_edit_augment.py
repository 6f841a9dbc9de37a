import copy

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from gnnas import ArchSpec, GraphEditAugment, graph_edit_distance
from gnnas.transforms import NoValidEditError
from gnnas.transforms.anchor import Anchor
from gnnas.transforms.graph_edit_augment import _fast_anchor
from tests.ged.ged_helpers import networkx_ged
from tests.transforms.cells import CHAIN3, DIAMOND, TRIVIAL, random_cells

CELLS = random_cells(400, seed=4)


def test_repr():
    assert repr(GraphEditAugment()) == "GraphEditAugment(max_edits=3)"
    assert repr(GraphEditAugment(2, compute_ged=False, seed=3)) == \
        "GraphEditAugment(max_edits=2, compute_ged=False, seed=3)"
    assert repr(GraphEditAugment(1, weights={"flip": 1}, num_edits_weights=[1])) == \
        "GraphEditAugment(max_edits=1, weights={'flip': 1}, num_edits_weights=[1])"


def test_positives_are_valid_different_and_input_untouched():
    transform = GraphEditAugment(compute_ged=False, seed=0)
    for spec in CELLS:
        data = spec.to_data()
        data.y = torch.tensor([0.9])
        before = copy.deepcopy(data)
        out = transform(data)
        assert out is not data
        for key in before.keys():
            value, old = data[key], before[key]
            assert torch.equal(value, old) if torch.is_tensor(value) else value == old, key
        positive = ArchSpec.from_data(out)
        assert not positive.was_pruned and positive != spec
        assert positive.num_vertices <= 7 and positive.num_edges <= 9
        assert out.num_nodes == positive.num_vertices and out.x.dtype == torch.float
        assert out.num_edits.shape == (1,) and 1 <= int(out.num_edits) <= 3
        assert "y" not in out  # the positive's accuracy is unknown
        expected = positive.to_data()
        assert torch.equal(out.x, expected.x) and torch.equal(out.edge_index, expected.edge_index)


def test_ged_is_exact_against_gnnas_and_networkx():
    transform = GraphEditAugment(seed=1)
    for spec in CELLS[:200]:
        out = transform(spec.to_data())
        assert out.ged.shape == (1,) and out.ged.dtype == torch.long
        assert int(out.ged) == graph_edit_distance(spec, ArchSpec.from_data(out))
        assert 1 <= int(out.ged) <= int(out.num_edits)
    small = [s for s in CELLS if s.num_vertices <= 5][:8] + [DIAMOND, CHAIN3]
    for spec in small:  # the slow reference on a sample
        out = transform(spec.to_data())
        assert int(out.ged) == networkx_ged(spec, ArchSpec.from_data(out))


def test_reproducible_from_a_seed_or_generator():
    def run(transform):
        return [ArchSpec.from_data(transform(s.to_data())).hash for s in CELLS[:50]]

    first = run(GraphEditAugment(compute_ged=False, seed=7))
    assert first == run(GraphEditAugment(compute_ged=False, seed=7))
    assert first != run(GraphEditAugment(compute_ged=False, seed=8))
    assert run(GraphEditAugment(compute_ged=False, generator=np.random.default_rng(7))) == \
        run(GraphEditAugment(compute_ged=False, generator=np.random.default_rng(7)))
    state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state()
    run(GraphEditAugment(compute_ged=False))
    assert (np.random.get_state()[1] == state).all()
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_num_edits_weights_and_fallback():
    transform = GraphEditAugment(compute_ged=False, num_edits_weights=[0, 0, 1], seed=0)
    assert {int(transform(s.to_data()).num_edits) for s in CELLS[:100] if s.num_vertices >= 5} == {3}
    # the chain input → v → output has no positive at 3 edits: the nearest count, 2, is used
    assert {int(transform(CHAIN3.to_data()).num_edits) for _ in range(20)} == {2}
    with pytest.raises(NoValidEditError):
        transform(TRIVIAL.to_data())
    one = GraphEditAugment(max_edits=1, weights={"flip": 1}, compute_ged=False, seed=0)
    for spec in CELLS[:50]:
        out = ArchSpec.from_data(one(spec.to_data()))
        assert abs(out.num_edges - spec.num_edges) == 1 and out.ops == spec.ops


def test_tokens_follow_and_batching_works():
    transform = GraphEditAugment(seed=2)
    graphs = []
    for spec in CELLS[:16]:
        data = spec.to_data()
        data.tokens = torch.tensor([spec.to_tokens()])
        out = transform(data)
        assert out.tokens.tolist() == [ArchSpec.from_data(out).to_tokens()]
        graphs.append(out)
    batch = Batch.from_data_list(graphs)
    assert batch.tokens.shape == (16, 27) and batch.num_edits.shape == (16,) and batch.ged.shape == (16,)


def test_bad_input():
    transform = GraphEditAugment(seed=0)
    with pytest.raises(ValueError, match="Data"):
        transform(DIAMOND)
    with pytest.raises(ValueError, match="one-hot"):
        transform(Data(x=torch.full((4, 5), 0.5), edge_index=DIAMOND.to_data().edge_index))
    with pytest.raises(ValueError, match="x"):
        transform(Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=3))
    dangling = DIAMOND.to_data()
    dangling.edge_index = torch.tensor([[0, 1], [1, 3]])  # vertex 2 is not on a path
    with pytest.raises(ValueError, match="pruned"):
        transform(dangling)
    no_path = DIAMOND.to_data()
    no_path.edge_index = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="not reachable"):
        transform(no_path)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="max_edits"):
            GraphEditAugment(max_edits=bad)
    with pytest.raises(ValueError, match="unknown edit kinds"):
        GraphEditAugment(weights={"move": 1, "op": 1})
    with pytest.raises(ValueError, match=r"for \[2, 3\] edits"):
        GraphEditAugment(weights={"op": 1})
    with pytest.raises(ValueError, match="num_edits_weights"):
        GraphEditAugment(num_edits_weights=[1, -1, 1])
    with pytest.raises(ValueError, match="either seed or generator"):
        GraphEditAugment(seed=1, generator=np.random.default_rng(1))
    with pytest.raises(ValueError, match="generator"):
        GraphEditAugment(generator=1)


def test_fast_parsing_of_data_matches_archspec():
    for spec in CELLS[:200] + [DIAMOND, CHAIN3, TRIVIAL]:
        fast, reference = _fast_anchor(spec.to_data()), Anchor(spec)
        assert (fast.n, fast.rows, fast.ops, fast.deletable) == \
            (reference.n, reference.rows, reference.ops, reference.deletable)
        assert fast.hash == spec.hash and fast.spec == spec
    shuffled = DIAMOND.to_data()
    shuffled.edge_index = shuffled.edge_index.flip(1)  # edge order does not matter
    assert _fast_anchor(shuffled).rows == Anchor(DIAMOND).rows
