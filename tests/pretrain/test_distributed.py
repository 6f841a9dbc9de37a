import socket

import pytest
import torch
import torch.multiprocessing as mp
from pytorch_metric_learning import losses

from gnnas.pretrain import PretrainConfig, pretrain
from gnnas.pretrain.distributed import DistContext, offset_labels, wrap_metric_loss

from .helpers import PairedDataset, distributed_worker, random_cells, tiny_setup

SETTINGS = dict(
    batch_size=32,
    num_positives=3,
    lr=0.5,
    momentum=0.5,
    epochs=2,
    lr_milestones=[5],
    checkpoint_interval=3,
    device="cpu",
    progress=False,
)
FIGURES = ("recon_loss", "metric_loss", "token_acc", "cell_acc", "num_tuples", "lr")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def single_process(values, metric_loss=None):
    """One process on the concatenation of the two ranks' batches (labels made distinct the same way)."""
    controller, _ = tiny_setup(seed=0)
    controller.encoder.dropout.p = 0.0
    dataset = PairedDataset(random_cells(32, 1234), 4, 3, seed=0)
    return controller, pretrain(
        PretrainConfig(**values), controller=controller, dataset=dataset, metric_loss=metric_loss
    )


def test_two_processes_match_one_process_on_the_global_batch(tmp_path):
    mined = dict(SETTINGS, loss="MarginLoss")
    smooth = dict(SETTINGS, loss="custom", lambda_e=1.0)
    jobs = [("mined", mined, None, None), ("smooth", smooth, losses.MultiSimilarityLoss(), None)]
    mp.spawn(distributed_worker, args=(2, free_port(), str(tmp_path), jobs), nprocs=2, join=True)

    for name in ("mined", "smooth"):
        rank0, rank1 = (torch.load(tmp_path / name / f"rank{r}.pt") for r in (0, 1))
        assert all(
            torch.equal(v, rank1["state"][k]) for k, v in rank0["state"].items()
        )  # DDP keeps them equal
        assert len(rank0["history"]) == 8  # 32 anchors / 4 per batch / 2 ranks = 4 iterations per epoch
        assert {p.name for p in (tmp_path / name).iterdir()} == {
            "config.json",
            "log.jsonl",
            "checkpoint.pt",
            "controller.pt",
            "summary.json",
            "rank0.pt",
            "rank1.pt",
        } | {f"{n}.sha256" for n in ("config.json", "checkpoint.pt", "summary.json")}

    # A smooth loss on the gathered batch: the same update as one process on all graphs at once.
    controller, single = single_process(smooth, losses.MultiSimilarityLoss())
    rank0 = torch.load(tmp_path / "smooth" / "rank0.pt")
    for key, value in controller.state_dict().items():
        torch.testing.assert_close(rank0["state"][key], value, rtol=1e-4, atol=1e-5, msg=key)
    # rank 0 logs figures of the global batch
    for ours, theirs in zip(rank0["history"], single.history, strict=True):
        for key in FIGURES:
            assert ours[key] == (
                None if theirs[key] is None else pytest.approx(theirs[key], rel=1e-4, abs=1e-6)
            ), key

    # Mining on the gathered batch: the first updates agree exactly in what is mined; later on,
    # rounding differences of 1e-7 can flip ties at the miner's thresholds, so only the first two.
    _, single = single_process(mined)
    rank0 = torch.load(tmp_path / "mined" / "rank0.pt")
    for ours, theirs in zip(rank0["history"][:2], single.history[:2], strict=True):
        assert ours["num_tuples"] == theirs["num_tuples"] > 0
        for key in FIGURES:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key


def test_not_distributed_is_a_no_op():
    context = DistContext()
    labels = torch.tensor([0, 0, 1, 1])
    assert offset_labels(labels, context) is labels
    loss, miner = object(), object()
    assert wrap_metric_loss(loss, miner, context) == (loss, miner)
    assert not context.enabled and context.is_main
