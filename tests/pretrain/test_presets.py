import math

import pytest
import torch
from pytorch_metric_learning import losses, miners

from gnnas.datasets import LocalityDataset
from gnnas.nn import NAOController
from gnnas.pretrain import NO_METRIC_LOSS, PRESET_NAMES, PretrainConfig, metric_loss_preset, pretrain

from .helpers import random_cells, tiny_setup

# The paper's Table 3 (DESIGN.md), written out independently of the presets module.
TABLE3 = {
    "AngularLoss": (losses.AngularLoss, {"alpha": 45}, miners.AngularMiner, {"angle": 20}, 256, 0.1),
    "ContrastiveLoss": (
        losses.ContrastiveLoss,
        {"pos_margin": 0, "neg_margin": 0},
        miners.TripletMarginMiner,
        {"margin": 0.1, "type_of_triplets": "semihard"},
        512,
        1.0,
    ),
    "GeneralizedLiftedStructureLoss": (
        losses.GeneralizedLiftedStructureLoss,
        {"pos_margin": 0, "neg_margin": 1},
        miners.TripletMarginMiner,
        {"margin": 0.1, "type_of_triplets": "semihard"},
        512,
        0.1,
    ),
    "LiftedStructureLoss": (
        losses.LiftedStructureLoss,
        {"pos_margin": 0, "neg_margin": 1},
        miners.TripletMarginMiner,
        {"margin": 0.1, "type_of_triplets": "semihard"},
        64,
        0.05,
    ),
    "MarginLoss": (
        losses.MarginLoss,
        {"margin": 0.2, "nu": 0, "learn_beta": False},
        miners.TripletMarginMiner,
        {"margin": 0.2, "type_of_triplets": "semihard"},
        512,
        1.0,
    ),
    "MultiSimilarityLoss": (
        losses.MultiSimilarityLoss,
        {"alpha": 2, "beta": 30, "base": 1.0},
        miners.AngularMiner,
        {"angle": 20},
        512,
        1.0,
    ),
    "NPairsLoss": (losses.NPairsLoss, {}, miners.AngularMiner, {"angle": 20}, 512, 1.0),
    "TripletMarginLoss": (
        losses.TripletMarginLoss,
        {"margin": 0.1},
        miners.TripletMarginMiner,
        {"margin": 0.1, "type_of_triplets": "semihard"},
        512,
        1.0,
    ),
}


def test_names_and_repr():
    assert PRESET_NAMES == (*TABLE3, NO_METRIC_LOSS)
    assert metric_loss_preset("MarginLoss").description.startswith("MarginLoss(margin=0.2")


@pytest.mark.parametrize("name", list(TABLE3))
def test_preset_settings(name):
    loss_type, loss_args, miner_type, miner_args, batch_size, lambda_e = TABLE3[name]
    preset = metric_loss_preset(name)
    loss, miner = preset.build()
    assert isinstance(loss, loss_type) and isinstance(miner, miner_type)
    for obj, args in ((loss, loss_args), (miner, miner_args)):
        for key, value in args.items():
            stored = getattr(obj, key)
            if key in ("alpha", "angle") and isinstance(obj, (losses.AngularLoss, miners.AngularMiner)):
                stored = math.degrees(float(stored))  # pml keeps angles in radians
            assert stored == pytest.approx(value) if isinstance(value, float) else stored == value, key
    assert (preset.batch_size, preset.lambda_e) == (batch_size, lambda_e)
    assert preset.build()[0] is not loss  # fresh objects each time


def test_margin_loss_beta_is_fixed():
    loss, _ = metric_loss_preset("MarginLoss").build()
    assert float(loss.beta) == pytest.approx(1.2) and not list(loss.parameters())


def test_no_metric_loss():
    preset = metric_loss_preset(NO_METRIC_LOSS)
    assert preset.build() == (None, None) and preset.lambda_e == 0.0 and preset.batch_size == 512


def test_unknown_preset_lists_the_names():
    with pytest.raises(ValueError, match="unknown metric loss preset 'Margin'.*MarginLoss.*NoMetricLoss"):
        metric_loss_preset("Margin")
    with pytest.raises(ValueError, match="unknown loss 'Foo'"):
        PretrainConfig(loss="Foo")


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_runs_one_step(name):
    controller, dataset = tiny_setup(classes=4, positives=3)
    before = {k: v.clone() for k, v in controller.state_dict().items()}
    config = PretrainConfig(
        loss=name, batch_size=16, num_positives=3, max_iterations=1, lr=0.1, progress=False
    )
    result = pretrain(config.replace(device="cpu"), controller=controller, dataset=dataset)
    (record,) = result.history
    assert record["iteration"] == 1 and torch.isfinite(torch.tensor(record["loss"]))
    if name == NO_METRIC_LOSS:
        assert record["metric_loss"] is None and record["num_tuples"] is None
        assert record["loss"] == record["recon_loss"]
    else:
        assert record["num_tuples"] is not None and record["num_tuples"] >= 0
        assert record["loss"] == pytest.approx(record["recon_loss"] + TABLE3[name][5] * record["metric_loss"])
    changed = [k for k, v in controller.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.startswith("encoder.") for k in changed) and any(k.startswith("decoder.") for k in changed)
    assert not any(k.startswith("predictor.") for k in changed)


@pytest.fixture(scope="module")
def fixed_batch():
    """Embeddings of a locality batch (8 classes of an anchor and 7 positives) by a seeded controller."""
    batch = LocalityDataset(random_cells(80, 1234), classes_per_batch=8, seed=0).make_batch(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        controller = NAOController()
    with torch.no_grad():
        return controller.encode(batch), batch.label


@pytest.mark.parametrize("name", list(TABLE3))
def test_preset_computes_what_the_original_classes_compute(name, fixed_batch):
    """The presets' fast miners and losses against pytorch-metric-learning's own classes."""
    loss_type, loss_args, miner_type, miner_args, _, _ = TABLE3[name]
    embeddings, labels = fixed_batch
    if name == "LiftedStructureLoss":  # the original builds a (T, T) matrix: keep T small
        embeddings, labels = embeddings[:32], labels[:32]
    loss, miner = metric_loss_preset(name).build()
    reference_loss, reference_miner = loss_type(**loss_args), miner_type(**miner_args)
    triplets, reference_triplets = miner(embeddings, labels), reference_miner(embeddings, labels)
    assert len(reference_triplets[0]) > 100
    assert all(torch.equal(a, b) for a, b in zip(triplets, reference_triplets, strict=True))
    results = []
    for metric_loss, indices_tuple in ((loss, triplets), (reference_loss, reference_triplets)):
        z = embeddings.clone().requires_grad_()
        value = metric_loss(z, labels, indices_tuple)
        value.backward()
        results.append((float(value.detach()), z.grad))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5, abs=1e-7)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-4, atol=1e-7)
