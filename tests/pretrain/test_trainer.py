import json

import pytest
import torch
from pytorch_metric_learning import losses

from gnnas.pretrain import LOG_FIELDS, PretrainConfig, load_checkpoint, pretrain, reconstruction_metrics

from .helpers import tiny_setup


def tiny_config(**changes):
    values = dict(loss="MarginLoss", batch_size=16, num_positives=3, lr=0.5, device="cpu", progress=False)
    values.update(changes)
    return PretrainConfig(**values)


def state(controller):
    return {k: v.detach().clone() for k, v in controller.state_dict().items()}


def test_short_run_lowers_the_loss_and_writes_its_files(tmp_path):
    controller, dataset = tiny_setup()
    rng_before = torch.get_rng_state()
    config = tiny_config(
        epochs=8, lr_milestones=[30], checkpoint_interval=10, decode_interval=5, decode_samples=4
    )
    result = pretrain(config, controller=controller, dataset=dataset, output_dir=tmp_path)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's generator is left alone
    history = result.history
    assert len(history) == 8 * dataset.num_batches == 64
    assert [r["iteration"] for r in history] == list(range(1, 65))
    assert [r["epoch"] for r in history] == [i // 8 for i in range(64)]
    assert history[29]["lr"] == 0.5 and history[30]["lr"] == pytest.approx(0.1)  # MultiStepLR at 30
    first = sum(r["recon_loss"] for r in history[:5]) / 5
    last = sum(r["recon_loss"] for r in history[-5:]) / 5
    assert last < 0.6 * first
    assert history[-1]["token_acc"] > history[0]["token_acc"]
    assert all(set(r) <= set(LOG_FIELDS) for r in history)
    assert [r["iteration"] for r in history if "decode_acc" in r] == list(range(5, 65, 5))
    assert {p.name for p in tmp_path.iterdir()} == {
        "config.json",
        "log.jsonl",
        "checkpoint.pt",
        "controller.pt",
        "summary.json",
    } | {f"{n}.sha256" for n in ("config.json", "checkpoint.pt", "summary.json")}  # a stand-in controller
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert logged == history
    saved = json.loads((tmp_path / "config.json").read_text())
    assert PretrainConfig.from_dict(saved["config"]) == config
    assert (
        saved["lambda_e"] == 1.0 and saved["total_iterations"] == 64 and "MarginLoss" in saved["metric_loss"]
    )
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    assert checkpoint["iteration"] == 64 and checkpoint["log"] == history
    assert all(torch.equal(v, controller.state_dict()[k]) for k, v in checkpoint["controller"].items())


def test_reconstruction_metrics_by_hand():
    tokens = torch.tensor([[1, 2], [3, 0]])
    log_probs = torch.log(
        torch.tensor(
            [
                [[0.1, 0.6, 0.3, 0.0], [0.0, 0.0, 1.0, 0.0]],
                [[0.0, 0.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.6]],
            ]
        )
    )
    nll, tokens_right, cells_right = reconstruction_metrics(log_probs, tokens)
    assert nll.item() == pytest.approx(
        -(torch.log(torch.tensor(0.6)) + torch.log(torch.tensor(0.4))).item() / 4
    )
    assert (tokens_right.item(), cells_right.item()) == (3, 1)
    with pytest.raises(ValueError, match="log_probs must be"):
        reconstruction_metrics(log_probs, tokens[:, :1])


class Killed(RuntimeError):
    pass


class KilledAfter(torch.utils.data.IterableDataset):
    """Wraps a dataset so that the run dies after ``limit`` batches (a kill between checkpoints)."""

    def __init__(self, dataset, limit):
        object.__setattr__(self, "dataset", dataset)
        self.limit, self.count = limit, 0

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __setattr__(self, name, value):
        if name in ("dataset", "limit", "count"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.dataset, name, value)

    def __iter__(self):
        for batch in self.dataset:
            if self.count == self.limit:
                raise Killed
            self.count += 1
            yield batch


def test_killed_run_resumes_to_identical_weights(tmp_path):
    # 3 epochs of 8 batches = 24 iterations, lr decay at 10, checkpoints every 6 iterations.
    config = tiny_config(loss="MarginLoss", epochs=3, lr_milestones=[10], checkpoint_interval=6, momentum=0.9)
    controller, dataset = tiny_setup(seed=3)
    reference = pretrain(config, controller=controller, dataset=dataset)
    expected = state(controller)

    controller, dataset = tiny_setup(seed=3)
    with pytest.raises(Killed):  # dies at iteration 16 (mid epoch 1), after the checkpoint at 12
        pretrain(config, controller=controller, dataset=KilledAfter(dataset, 16), output_dir=tmp_path)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["iteration"] == 12
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 16

    controller = tiny_setup(seed=99)[0]  # other initial weights: all must come from the checkpoint
    dataset = tiny_setup(seed=3)[1]
    resumed = pretrain(config, controller=controller, dataset=dataset, output_dir=tmp_path, resume=True)
    assert dataset.batches_made == 24 - 12  # the dataset started at the right batch, nothing skipped by hand
    final = state(controller)
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[k], expected[k]) for k in expected)

    def strip(history):
        return [{k: v for k, v in r.items() if k != "elapsed"} for r in history]

    assert strip(resumed.history) == strip(reference.history)
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert strip(logged) == strip(reference.history)


def test_stopped_run_continues_with_more_iterations(tmp_path):
    config = tiny_config(loss="NoMetricLoss", epochs=2, checkpoint_interval=0)
    controller, dataset = tiny_setup(seed=5)
    pretrain(config, controller=controller, dataset=dataset)
    expected = state(controller)
    controller, dataset = tiny_setup(seed=5)
    first = pretrain(
        config.replace(max_iterations=5), controller=controller, dataset=dataset, output_dir=tmp_path
    )
    assert len(first.history) == 5
    controller, dataset = tiny_setup(seed=5)
    second = pretrain(config, controller=controller, dataset=dataset, output_dir=tmp_path, resume=True)
    assert len(second.history) == 16
    assert all(torch.equal(v, expected[k]) for k, v in controller.state_dict().items())


def test_workers_are_bounded_by_the_cores(monkeypatch):
    import gnnas.pretrain.trainer as trainer_module

    started = []
    real = torch.utils.data.DataLoader

    def loader(*args, **kwargs):
        started.append(kwargs["num_workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.utils.data, "DataLoader", loader)
    monkeypatch.setattr(trainer_module, "available_cores", lambda: 1)
    controller, dataset = tiny_setup()
    config = tiny_config(max_iterations=2, num_workers=10**9)
    result = pretrain(config, controller=controller, dataset=dataset)
    assert started == [1] and len(result.history) == 2


def test_custom_loss_object_and_grad_clip():
    controller, dataset = tiny_setup()
    config = tiny_config(
        loss="custom", lambda_e=0.5, grad_clip=0.01, max_iterations=3, optimizer="adam", lr=1e-3
    )
    result = pretrain(
        config, controller=controller, dataset=dataset, metric_loss=losses.TripletMarginLoss(margin=0.3)
    )
    record = result.history[-1]
    assert record["num_tuples"] is None and record["metric_loss"] > 0
    assert record["loss"] == pytest.approx(record["recon_loss"] + 0.5 * record["metric_loss"])
    assert all("grad_norm" in r for r in result.history)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 18}, r"batch_size 18 must be a multiple of \(1 \+ num_positives\)"),
        ({"batch_size": 4}, "at least 2"),
        ({"lambda_e": -1.0}, "lambda_e must be"),
        ({"lr_milestones": [6000, 100]}, "lr_milestones must be increasing"),
        ({"grad_clip": 0.0}, "grad_clip must be"),
        ({"device": "gpu"}, "device must be 'auto'"),
        ({"max_iterations": 0}, "max_iterations must be a positive integer"),
        ({"encoder": "big"}, "encoder must be a dict"),
    ({"optimizer": "rmsprop"}, r"optimizer must be one of \['sgd', 'adam', 'adamw'\]"),
    ],
)
def test_bad_config_values(changes, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**changes)


def test_bad_calls(tmp_path):
    with pytest.raises(ValueError, match="unknown PretrainConfig settings \\['learning_rate'\\]"):
        PretrainConfig.from_dict({"learning_rate": 1.0})
    with pytest.raises(ValueError, match="resume=True needs the output_dir"):
        pretrain(tiny_config(), resume=True)
    with pytest.raises(ValueError, match="no metric_loss object"):
        pretrain(tiny_config(loss="custom"))
    with pytest.raises(ValueError, match="config must be a PretrainConfig"):
        pretrain({"lr": 1.0})
    controller, dataset = tiny_setup()
    pretrain(tiny_config(max_iterations=2), controller=controller, dataset=dataset, output_dir=tmp_path)
    with pytest.raises(ValueError, match=r"cannot resume: settings \['lr'\] differ"):
        pretrain(
            tiny_config(max_iterations=4, lr=0.1),
            controller=controller,
            dataset=dataset,
            output_dir=tmp_path,
            resume=True,
        )


def test_real_networks_and_locality_dataset(tmp_path):
    from gnnas.datasets import LocalityDataset
    from gnnas.nn import NAOController

    from .helpers import random_cells

    cells = random_cells(48, 7)
    config = tiny_config(
        loss="MarginLoss", batch_size=32, lr=0.5, epochs=3, checkpoint_interval=0, decode_interval=6,
        decode_samples=8, encoder={"hidden_channels": 16, "num_layers": 2, "out_channels": 8},
        decoder={"hidden_channels": 16},
    )
    # The default path: the controller built from the config and seed, the dataset from the cells.
    result = pretrain(config, cells=cells, output_dir=tmp_path)
    controller = result.controller
    assert isinstance(controller, NAOController) and controller.encoder.hidden_channels == 16
    assert len(result.history) == 3 * LocalityDataset(cells, classes_per_batch=8, num_positives=3).num_batches
    history = result.history
    assert sum(r["recon_loss"] for r in history[-3:]) < sum(r["recon_loss"] for r in history[:3])
    assert all(0.0 <= r["decode_acc"] <= 1.0 for r in history if "decode_acc" in r)
    assert NAOController.load(tmp_path / "controller.pt").get_config() == controller.get_config()

    # The logged reconstruction loss is the controller's own (mean NLL over the 27 tokens).
    dataset = LocalityDataset(cells, classes_per_batch=4, num_positives=3, seed=0)
    batch = dataset.make_batch(0)
    with torch.no_grad():
        z = controller.encode(batch)
        nll, _, _ = reconstruction_metrics(controller.decoder(z, batch.tokens), batch.tokens)
        assert nll.item() == pytest.approx(controller.reconstruction_loss(z, batch.tokens).item(), rel=1e-6)

    # Same seed, same weights; the default networks come from the seed alone.
    again = pretrain(config.replace(max_iterations=2), cells=cells).controller
    first = pretrain(config.replace(max_iterations=2), cells=cells).controller
    assert all(torch.equal(v, first.state_dict()[k]) for k, v in again.state_dict().items())
