import pytest
import torch
from pytorch_metric_learning import distances, losses, miners, reducers
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

from gnnas.pretrain.losses import (
    FastAngularLoss,
    FastContrastiveLoss,
    FastGeneralizedLiftedStructureLoss,
    FastLiftedStructureLoss,
    FastMarginLoss,
    FastMultiSimilarityLoss,
    FastNPairsLoss,
    FastTripletMarginLoss,
    masked_logsumexp,
)
from gnnas.pretrain.miners import FastAngularMiner, FastTripletMarginMiner

# (pml's class, the fast one, keyword arguments): the presets' settings and a few others.
PAIRS = [
    (losses.AngularLoss, FastAngularLoss, {"alpha": 45}),
    (losses.AngularLoss, FastAngularLoss, {"alpha": 30}),
    (losses.ContrastiveLoss, FastContrastiveLoss, {"pos_margin": 0, "neg_margin": 0}),
    (losses.ContrastiveLoss, FastContrastiveLoss, {"pos_margin": 0.3, "neg_margin": 1.2}),
    (
        losses.GeneralizedLiftedStructureLoss,
        FastGeneralizedLiftedStructureLoss,
        {"pos_margin": 0, "neg_margin": 1},
    ),
    (losses.LiftedStructureLoss, FastLiftedStructureLoss, {"pos_margin": 0, "neg_margin": 1}),
    (losses.LiftedStructureLoss, FastLiftedStructureLoss, {"pos_margin": 0.2, "neg_margin": 0.5}),
    (losses.MarginLoss, FastMarginLoss, {"margin": 0.2, "nu": 0, "beta": 1.2, "learn_beta": False}),
    (losses.MarginLoss, FastMarginLoss, {"margin": 0.1, "nu": 0.1, "beta": 0.8, "learn_beta": True}),
    (losses.MultiSimilarityLoss, FastMultiSimilarityLoss, {"alpha": 2, "beta": 30, "base": 1.0}),
    (losses.MultiSimilarityLoss, FastMultiSimilarityLoss, {}),
    (losses.NPairsLoss, FastNPairsLoss, {}),
    (losses.TripletMarginLoss, FastTripletMarginLoss, {"margin": 0.1}),
    (
        losses.TripletMarginLoss,
        FastTripletMarginLoss,
        {"margin": 0.3, "distance": distances.CosineSimilarity()},
    ),
]
IDS = [f"{fast.__name__}-{i}" for i, (_, fast, _) in enumerate(PAIRS)]


def value_and_gradient(loss, embeddings, labels, indices_tuple):
    embeddings = embeddings.clone().requires_grad_()
    value = loss(embeddings, labels, indices_tuple)
    value.backward()
    return float(value.detach()), embeddings.grad


def assert_same(reference, fast, embeddings, labels, indices_tuple, what):
    value, gradient = value_and_gradient(reference, embeddings, labels, indices_tuple)
    fast_value, fast_gradient = value_and_gradient(fast, embeddings, labels, indices_tuple)
    assert fast_value == pytest.approx(value, rel=1e-5, abs=1e-6), what
    torch.testing.assert_close(fast_gradient, gradient, rtol=1e-4, atol=1e-6, msg=lambda m: f"{what}: {m}")


def tuples(embeddings, labels):
    """Every kind of indices_tuple a pml loss takes: triplets (plain and mined), pairs, None."""
    return {
        "pml triplets": miners.TripletMarginMiner(0.3, "semihard")(embeddings, labels),
        "pml angular": miners.AngularMiner(20)(embeddings, labels),
        "fast triplets": FastTripletMarginMiner(0.3, "all")(embeddings, labels),
        "fast angular": FastAngularMiner(20)(embeddings, labels),
        "pairs": lmu.get_all_pairs_indices(labels),
        "none": None,
    }


@pytest.mark.parametrize(("reference_type", "fast_type", "kwargs"), PAIRS, ids=IDS)
def test_same_values_and_gradients_as_pytorch_metric_learning(reference_type, fast_type, kwargs):
    generator = torch.Generator().manual_seed(len(IDS))
    for case in range(8):
        size = int(torch.randint(4, 40, (1,), generator=generator))
        embeddings = torch.randn(size, 16, generator=generator)
        if case % 2:
            embeddings = torch.nn.functional.normalize(embeddings)
        num_labels = int(torch.randint(2, 6, (1,), generator=generator))
        labels = torch.randint(num_labels, (size,), generator=generator)
        for kind, indices_tuple in tuples(embeddings, labels).items():
            if reference_type is losses.LiftedStructureLoss and indices_tuple is not None \
                    and len(indices_tuple[0]) > 3000:
                continue  # the original builds a (T, T) matrix
            reference, fast = reference_type(**kwargs), fast_type(**kwargs)
            assert isinstance(fast, reference_type)
            assert_same(reference, fast, embeddings, labels, indices_tuple, f"case {case}, {kind}")


@pytest.mark.parametrize(("reference_type", "fast_type", "kwargs"), PAIRS, ids=IDS)
def test_class_structured_batch(reference_type, fast_type, kwargs):
    """The trainer's batches: classes of 8, with the presets' miners, and a batch with no triplet."""
    generator = torch.Generator().manual_seed(7)
    labels = torch.arange(4).repeat_interleave(8)  # more would make the original lifted loss slow
    embeddings = torch.nn.functional.normalize(torch.randn(32, 32, generator=generator))
    for miner in (FastTripletMarginMiner(0.1, "semihard"), FastAngularMiner(20)):
        assert_same(reference_type(**kwargs), fast_type(**kwargs), embeddings, labels,
                    miner(embeddings, labels), repr(miner))
    nothing = FastTripletMarginMiner(0.0, "semihard")(embeddings, labels)  # margin 0: no triplet
    assert len(nothing[0]) == 0
    assert_same(reference_type(**kwargs), fast_type(**kwargs), embeddings, labels, nothing, "no triplet")


def test_other_settings_run_the_original():
    """Another reducer, statistics, per-class beta and a reference set take the original's code."""
    generator = torch.Generator().manual_seed(8)
    embeddings, labels = torch.randn(32, 8, generator=generator), torch.arange(4).repeat_interleave(8)
    ref_emb, ref_labels = torch.randn(24, 8, generator=generator), torch.arange(4).repeat_interleave(6)
    triplets = FastTripletMarginMiner(0.3, "all")(embeddings, labels)
    variants = [
        (losses.AngularLoss, FastAngularLoss, {"reducer": reducers.SumReducer()}),
        (losses.ContrastiveLoss, FastContrastiveLoss, {"collect_stats": True}),
        (losses.MarginLoss, FastMarginLoss, {"num_classes": 4, "learn_beta": True}),
        (losses.TripletMarginLoss, FastTripletMarginLoss, {"swap": True}),
        (losses.TripletMarginLoss, FastTripletMarginLoss, {"smooth_loss": True}),
        (losses.TripletMarginLoss, FastTripletMarginLoss, {"reducer": reducers.MeanReducer()}),
    ]
    for reference_type, fast_type, kwargs in variants:
        assert_same(reference_type(**kwargs), fast_type(**kwargs), embeddings, labels, triplets, str(kwargs))
    for reference_type, fast_type in ((losses.LiftedStructureLoss, FastLiftedStructureLoss),
                                      (losses.ContrastiveLoss, FastContrastiveLoss)):
        reference = float(reference_type()(embeddings, labels, None, ref_emb, ref_labels))
        assert float(fast_type()(embeddings, labels, None, ref_emb, ref_labels)) == pytest.approx(reference)


def test_masked_logsumexp_equals_pml():
    generator = torch.Generator().manual_seed(9)
    x = torch.randn(20, 30, generator=generator) * 5
    keep = torch.rand(20, 30, generator=generator) < 0.3
    keep[3] = False  # a row without kept entries gives 0
    for add_one in (True, False):
        fast, reference = (x.clone().requires_grad_() for _ in range(2))
        value = masked_logsumexp(fast, keep, add_one)
        expected = lmu.logsumexp(reference, keep, add_one=add_one)
        torch.testing.assert_close(value, expected, rtol=1e-6, atol=1e-6)
        assert value[3] == 0
        (value * torch.arange(20.0).unsqueeze(1)).sum().backward()
        (expected * torch.arange(20.0).unsqueeze(1)).sum().backward()
        torch.testing.assert_close(fast.grad, reference.grad, rtol=1e-5, atol=1e-7)
        assert torch.isfinite(fast.grad).all() and (fast.grad[~keep] == 0).all()
