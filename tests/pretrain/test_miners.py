import pytest
import torch
from pytorch_metric_learning import distances, miners

from gnnas.pretrain.miners import FastTripletMarginMiner


@pytest.mark.parametrize("type_of_triplets", ["all", "hard", "semihard", "easy"])
def test_same_triplets_as_pytorch_metric_learning(type_of_triplets):
    generator = torch.Generator().manual_seed(0)
    for case in range(12):
        size = int(torch.randint(2, 80, (1,), generator=generator))
        num_labels = int(torch.randint(1, 10, (1,), generator=generator))
        embeddings = torch.randn(size, 8, generator=generator)
        labels = torch.randint(num_labels, (size,), generator=generator)
        margin = float(torch.rand(1, generator=generator)) * 0.5
        distance = distances.CosineSimilarity() if case % 3 == 2 else distances.LpDistance()
        reference = miners.TripletMarginMiner(margin, type_of_triplets, distance=distance)(embeddings, labels)
        fast = FastTripletMarginMiner(margin, type_of_triplets, distance=distance)(embeddings, labels)
        assert all(torch.equal(a, b) for a, b in zip(reference, fast, strict=True)), case


def test_class_structured_batch_and_stats():
    embeddings = torch.randn(64, 16, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(8).repeat_interleave(8)
    reference = miners.TripletMarginMiner(0.2, "semihard", collect_stats=True)
    fast = FastTripletMarginMiner(0.2, "semihard", collect_stats=True)
    pairs = zip(reference(embeddings, labels), fast(embeddings, labels), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    for stat in ("pos_pair_dist", "neg_pair_dist", "avg_triplet_margin"):
        assert getattr(fast, stat) == pytest.approx(getattr(reference, stat), rel=1e-5)
    assert repr(fast) == "FastTripletMarginMiner(margin=0.2, type_of_triplets='semihard')"


def test_bad_type_of_triplets():
    with pytest.raises(ValueError, match="type_of_triplets must be"):
        FastTripletMarginMiner(0.1, "semi-hard")
