import math

import numpy as np
import pytest
import torch
from pytorch_metric_learning import distances, miners

from gnnas.pretrain.losses import pair_counts
from gnnas.pretrain.miners import FastAngularMiner, FastTripletMarginMiner, MinedTriplets, mask_to_triplets


def same_tuples(reference, fast) -> bool:
    pairs = zip(reference, fast, strict=True) if len(reference) == len(fast) else []
    return len(reference) == len(fast) and all(torch.equal(a, b) for a, b in pairs)


def random_batch(generator, max_size=80, max_labels=10, dim=None):
    size = int(torch.randint(2, max_size, (1,), generator=generator))
    num_labels = int(torch.randint(1, max_labels, (1,), generator=generator))
    dim = dim or int(torch.randint(1, 40, (1,), generator=generator))
    embeddings = torch.randn(size, dim, generator=generator)
    labels = torch.randint(num_labels, (size,), generator=generator)
    return embeddings, labels


@pytest.mark.parametrize("type_of_triplets", ["all", "hard", "semihard", "easy"])
def test_same_triplets_as_pytorch_metric_learning(type_of_triplets):
    generator = torch.Generator().manual_seed(0)
    for case in range(12):
        embeddings, labels = random_batch(generator, dim=8)
        margin = float(torch.rand(1, generator=generator)) * 0.5
        distance = distances.CosineSimilarity() if case % 3 == 2 else distances.LpDistance()
        reference = miners.TripletMarginMiner(margin, type_of_triplets, distance=distance)(embeddings, labels)
        fast = FastTripletMarginMiner(margin, type_of_triplets, distance=distance)(embeddings, labels)
        assert isinstance(fast, MinedTriplets)
        assert same_tuples(reference, fast), case


def test_class_structured_batch_and_stats():
    embeddings = torch.randn(64, 16, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(8).repeat_interleave(8)
    reference = miners.TripletMarginMiner(0.2, "semihard", collect_stats=True)
    fast = FastTripletMarginMiner(0.2, "semihard", collect_stats=True)
    assert same_tuples(reference(embeddings, labels), fast(embeddings, labels))
    for stat in ("pos_pair_dist", "neg_pair_dist", "avg_triplet_margin"):
        assert getattr(fast, stat) == pytest.approx(getattr(reference, stat), rel=1e-5)
    assert repr(fast) == "FastTripletMarginMiner(margin=0.2, type_of_triplets='semihard')"


def test_bad_type_of_triplets():
    with pytest.raises(ValueError, match="type_of_triplets must be"):
        FastTripletMarginMiner(0.1, "semi-hard")


def test_angular_miner_same_triplets_as_pytorch_metric_learning():
    generator = torch.Generator().manual_seed(2)
    for case in range(150):
        embeddings, labels = random_batch(generator)
        embeddings = embeddings * float(torch.rand(1, generator=generator) * 3 + 0.01)
        if case % 2:
            embeddings = torch.nn.functional.normalize(embeddings)
        if case % 5 == 0:
            embeddings = embeddings.double()
        angle = float(torch.rand(1, generator=generator)) * 80
        reference = miners.AngularMiner(angle)(embeddings, labels)
        fast = FastAngularMiner(angle)(embeddings, labels)
        assert same_tuples(reference, fast), case


def test_angular_miner_hard_cases():
    """Collapsed, repeated and unnormalised embeddings, a reference set, and the paper's batch."""
    generator = torch.Generator().manual_seed(3)
    labels = torch.arange(8).repeat_interleave(8)
    base = torch.nn.functional.normalize(torch.randn(1, 32, generator=generator))
    cases = [
        (torch.nn.functional.normalize(base + 1e-3 * torch.randn(64, 32, generator=generator)), labels),
        (torch.randn(8, 4, generator=generator).repeat(8, 1), labels),  # every point 8 times
        (100 + torch.randn(64, 32, generator=generator), labels),  # far from the origin
        (torch.zeros(64, 32), labels),
    ]
    for embeddings, labels in cases:
        reference = miners.AngularMiner(20)(embeddings, labels)
        assert same_tuples(reference, FastAngularMiner(20)(embeddings, labels))
    embeddings, ref_emb = torch.randn(40, 8, generator=generator), torch.randn(30, 8, generator=generator)
    labels = torch.randint(4, (40,), generator=generator)
    ref_labels = torch.randint(4, (30,), generator=generator)
    reference = miners.AngularMiner(25)(embeddings, labels, ref_emb, ref_labels)
    assert same_tuples(reference, FastAngularMiner(25)(embeddings, labels, ref_emb, ref_labels))


def test_angular_miner_falls_back_to_the_original():
    generator = torch.Generator().manual_seed(4)
    embeddings, labels = torch.randn(48, 8, generator=generator), torch.arange(6).repeat_interleave(8)
    embeddings[5, 2] = math.nan
    assert same_tuples(miners.AngularMiner(20)(embeddings, labels), FastAngularMiner(20)(embeddings, labels))
    embeddings = torch.randn(48, 8, generator=generator)
    reference, fast = miners.AngularMiner(20, collect_stats=True), FastAngularMiner(20, collect_stats=True)
    assert same_tuples(reference(embeddings, labels), fast(embeddings, labels))
    assert fast.average_angle == pytest.approx(reference.average_angle)
    empty = FastAngularMiner(20)(embeddings, torch.arange(48))  # no positive pair at all
    assert [len(x) for x in empty] == [0, 0, 0]
    assert repr(FastAngularMiner(20)) == "FastAngularMiner(angle=20)"


@pytest.mark.parametrize("num_cols", [5, 8, 512])
def test_mask_to_triplets_lists_the_mask_row_by_row(num_cols):
    generator = torch.Generator().manual_seed(num_cols)
    keep = torch.rand(37, num_cols, generator=generator) < 0.3
    anchor_idx = torch.randint(20, (37,), generator=generator).sort().values
    positive_idx = torch.randint(num_cols, (37,), generator=generator)
    pair, negative_idx = torch.where(keep)
    expected = (anchor_idx[pair], positive_idx[pair], negative_idx)
    triplets = mask_to_triplets(keep, anchor_idx, positive_idx)
    assert same_tuples(expected, triplets) and all(t.dtype == torch.long for t in triplets)


def test_mined_triplets_count_their_pairs():
    generator = torch.Generator().manual_seed(5)
    embeddings, labels = torch.randn(64, 8, generator=generator), torch.randint(6, (64,), generator=generator)
    for miner in (FastTripletMarginMiner(0.3, "all"), FastAngularMiner(20)):
        anchors, positives, negatives = triplets = miner(embeddings, labels)
        positive_counts, negative_counts = triplets.pair_counts(64, 64)
        assert torch.equal(positive_counts, pair_counts(anchors, positives, 64, 64).float())
        assert torch.equal(negative_counts, pair_counts(anchors, negatives, 64, 64).float())
        assert triplets.pair_counts(64, 65) is None and triplets.pair_counts(3, 64) is None
    assert np.array_equal(pair_counts(torch.tensor([1, 1, 0]), torch.tensor([2, 2, 0]), 2, 3).numpy(),
                          [[1, 0, 0], [0, 0, 2]])
    with pytest.raises(ValueError, match="a column index lies outside"):
        pair_counts(torch.tensor([0]), torch.tensor([3]), 2, 3)
    with pytest.raises(ValueError, match="a row index lies outside"):
        pair_counts(torch.tensor([2]), torch.tensor([0]), 2, 3)
