import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torch_geometric.data import Batch

from gnnas import ArchSpec, LocalityDataset, graph_edit_distance
from gnnas.datasets import collate_cells
from gnnas.transforms.anchor import Anchor
from tests.transforms.cells import CHAIN3, TRIVIAL, random_cells

CELLS = random_cells(203, seed=1) + [TRIVIAL, CHAIN3]


def small(**kwargs) -> LocalityDataset:
    options = dict(classes_per_batch=8, num_positives=3, seed=5)
    options.update(kwargs)
    return LocalityDataset(CELLS, **options)


def batches_equal(a: Batch, b: Batch) -> bool:
    return set(a.keys()) == set(b.keys()) and all(
        torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) else a[k] == b[k] for k in a.keys())


def test_repr_and_sizes():
    dataset = small()
    assert repr(dataset) == ("LocalityDataset(num_anchors=204, classes_per_batch=8, num_positives=3, "
                             "max_edits=3, seed=5, epoch=0)")
    assert dataset.num_anchors == 204  # the cell input → output has no positive and is left out
    assert dataset.num_batches == 25 and len(dataset) == 25
    assert small(drop_last=False).num_batches == 26


def test_batch_content():
    dataset = small()
    batch = dataset.make_batch(3)
    group, classes = 4, 8
    assert batch.num_graphs == group * classes
    assert batch.label.tolist() == [c for c in range(classes) for _ in range(group)]
    assert batch.label.dtype == batch.num_edits.dtype == batch.tokens.dtype == torch.long
    assert batch.tokens.shape == (32, 27) and batch.num_edits.shape == (32,)
    assert torch.bincount(batch.label).tolist() == [group] * classes
    specs = [ArchSpec.from_data(d) for d in batch.to_data_list()]
    for g, (data, spec) in enumerate(zip(batch.to_data_list(), specs, strict=True)):
        assert not spec.was_pruned
        assert data.tokens.tolist() == [spec.to_tokens()]
        anchor = CELLS[int(batch.anchor_id[g])]
        if g % group == 0:
            assert batch.num_edits[g] == 0 and spec == anchor
        else:
            assert 1 <= int(batch.num_edits[g]) <= 3 and spec != anchor
            assert specs[g - g % group] == anchor
    # equals PyG's own batching of the graphs
    reference = []
    for data, spec in zip(batch.to_data_list(), specs, strict=True):
        expected = spec.to_data()
        expected.tokens = torch.tensor([spec.to_tokens()])
        expected.label, expected.num_edits, expected.anchor_id = data.label, data.num_edits, data.anchor_id
        reference.append(expected)
    assert batches_equal(Batch.from_data_list(reference), batch)


def test_collate_cells_matches_from_data_list():
    cells = random_cells(50, seed=3) + [TRIVIAL]
    anchors = [Anchor(spec) for spec in cells]
    batch = collate_cells([(a.n, a.rows, a.ops) for a in anchors], y=torch.arange(len(cells)))
    reference = []
    for i, spec in enumerate(cells):
        data = spec.to_data()
        data.tokens = torch.tensor([spec.to_tokens()])
        data.y = torch.tensor([i])
        reference.append(data)
    expected = Batch.from_data_list(reference)
    assert batches_equal(expected, batch)
    for key in expected._slice_dict:
        assert torch.equal(expected._slice_dict[key], batch._slice_dict[key])
        assert torch.equal(expected._inc_dict[key], batch._inc_dict[key])
    assert batches_equal(batch[7], expected[7])
    assert all(torch.equal(batch[7][k], reference[7][k]) for k in ["x", "edge_index", "tokens", "y"])


def test_num_edits_distribution_and_weights():
    counts = torch.cat([small(num_edits_weights=[0, 1, 0]).make_batch(b).num_edits for b in range(3)])
    # only 2 edits; the chain input → v → output, whose positives need 2 edits, is no exception
    assert set(counts.tolist()) == {0, 2}
    dataset = LocalityDataset(random_cells(200, seed=2, min_vertices=5), classes_per_batch=50, seed=0)
    counts = torch.cat([dataset.make_batch(b).num_edits for b in range(4)])
    frequencies = torch.bincount(counts, minlength=4)[1:].double() / (counts > 0).sum()
    assert torch.allclose(frequencies, torch.full((3,), 1 / 3, dtype=torch.double), atol=0.05)


def test_epoch_draws_anchors_without_replacement():
    dataset = small(drop_last=False)
    anchors = torch.cat([dataset.make_batch(b).anchor_id[::4] for b in range(dataset.num_batches)])
    assert sorted(anchors.tolist()) == [i for i, c in enumerate(CELLS) if c.num_vertices > 2]
    dataset.set_epoch(1)
    other = torch.cat([dataset.make_batch(b).anchor_id[::4] for b in range(dataset.num_batches)])
    assert sorted(other.tolist()) == sorted(anchors.tolist()) and other.tolist() != anchors.tolist()
    dropped = small()
    seen = torch.cat([b.anchor_id[::4] for b in dropped])
    assert len(seen) == len(set(seen.tolist())) == 25 * 8


def test_pure_function_of_seed_epoch_batch_and_resume():
    dataset = small()
    full = list(dataset)
    assert batches_equal(full[4], small().make_batch(4))
    assert batches_equal(full[4], dataset.make_batch(4, epoch=0))
    resumed = list(small(start_batch=21))
    assert len(resumed) == 4 and all(batches_equal(a, b) for a, b in zip(full[21:], resumed, strict=True))
    dataset.set_epoch(2, start_batch=24)
    assert batches_equal(next(iter(dataset)), small(epoch=2).make_batch(24))
    assert not batches_equal(small(seed=6).make_batch(4), full[4])
    assert not batches_equal(small(epoch=1).make_batch(4), full[4])


def test_sharding_over_ranks_and_workers():
    full = list(small(start_batch=3))
    ranks = [list(small(start_batch=3, rank=r, world_size=3)) for r in range(3)]
    assert [len(r) for r in ranks] == [len(small(start_batch=3, rank=r, world_size=3)) for r in range(3)]
    interleaved = [b for step in zip(*ranks, strict=False) for b in step] + ranks[0][len(ranks[2]):][:1]
    assert len(interleaved) == len(full)
    assert all(batches_equal(a, b) for a, b in zip(full, interleaved, strict=True))
    full = full[1:]  # 21 batches from batch 4: the two workers get 11 and 10
    loader = DataLoader(small(start_batch=4), batch_size=None, num_workers=2)
    assert len(loader) == len(full) == 21
    from_workers = list(loader)
    assert len(from_workers) == len(full)
    assert all(batches_equal(a, b) for a, b in zip(full, from_workers, strict=True))


def test_ged_is_exact():
    dataset = small(classes_per_batch=3, num_positives=4, compute_ged=True)
    batch = dataset.make_batch(0)
    specs = [ArchSpec.from_data(d) for d in batch.to_data_list()]
    for g, spec in enumerate(specs):
        anchor = specs[g - g % 5]
        assert int(batch.ged[g]) == graph_edit_distance(anchor, spec)
        assert int(batch.ged[g]) <= int(batch.num_edits[g])
    assert (batch.ged[::5] == 0).all() and (batch.ged[batch.num_edits > 0] > 0).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="ArchSpec"):
        LocalityDataset([CELLS[0], "cell"], classes_per_batch=1)
    with pytest.raises(ValueError, match="sequence of ArchSpec"):
        LocalityDataset(5)
    with pytest.raises(ValueError, match="classes_per_batch"):
        small(classes_per_batch=0)
    with pytest.raises(ValueError, match="fewer than classes_per_batch"):
        small(classes_per_batch=1000)
    with pytest.raises(ValueError, match="num_edits_weights"):
        small(num_edits_weights=[1, 1])
    with pytest.raises(ValueError, match="num_edits_weights"):
        small(num_edits_weights=[0, 0, 0])
    with pytest.raises(ValueError, match="max_edits"):
        small(max_edits=0)
    with pytest.raises(ValueError, match="unknown edit kinds"):
        small(weights={"swap": 1})
    with pytest.raises(ValueError, match="rank"):
        small(rank=2, world_size=2)
    with pytest.raises(ValueError, match="start_batch"):
        small(start_batch=26)
    with pytest.raises(ValueError, match="batch index"):
        small().make_batch(25)
    with pytest.raises(ValueError, match="seed"):
        small(seed=-1)
    assert np.isscalar(LocalityDataset(CELLS, seed=None, classes_per_batch=4).seed)


def test_default_anchors_are_the_enumerated_space(space):
    dataset = LocalityDataset(seed=3)
    assert dataset.num_anchors == len(space) - 1 == 423_623  # all but input → output
    assert dataset.num_batches == 423_623 // 64
    batch = dataset.make_batch(17)
    assert batch.num_graphs == 512 and torch.bincount(batch.label).tolist() == [8] * 64
    ids = batch.anchor_id[::8]
    assert len(set(ids.tolist())) == 64
    # anchors come straight from the packed arrays: the same as building them from ArchSpec
    for anchor, i in zip(dataset._anchors(ids.numpy()), ids.tolist(), strict=True):
        reference = Anchor(space[i])
        assert (anchor.n, anchor.rows, anchor.ops, anchor.deletable, anchor.hash) == \
            (reference.n, reference.rows, reference.ops, reference.deletable, space[i].hash)
    for g, data in enumerate(batch.to_data_list()):
        spec = ArchSpec.from_data(data)
        anchor = space[int(batch.anchor_id[g])]
        assert (spec == anchor) == (g % 8 == 0)


def test_rank_and_world_size_from_torch_distributed(tmp_path):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        dataset = small()
        assert (dataset.rank, dataset.world_size) == (0, 1)
        explicit = small(rank=1, world_size=2)  # explicit arguments win
        assert (explicit.rank, explicit.world_size) == (1, 2)
    finally:
        dist.destroy_process_group()
