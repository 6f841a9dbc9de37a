import json

import numpy as np
import pytest
import torch

import gnnas.pretrain.shipped as shipped
import gnnas.pretrain.trainer as trainer
from gnnas.nn import NAOController
from gnnas.pretrain import (
    PretrainConfig,
    evaluate_reconstruction,
    is_shipped,
    load_shipped,
    pretrain,
    pretrained_controller,
    shipped_config,
    shipped_info,
    shipped_log,
    shipped_presets,
)
from gnnas.pretrain.shipped import RECONSTRUCTION_CELLS, RECONSTRUCTION_SEED, write_shipped

from .helpers import random_cells

TINY = dict(batch_size=16, num_positives=3, max_iterations=3, device="cpu", progress=False,
            encoder={"hidden_channels": 8, "num_layers": 1, "out_channels": 4},
            decoder={"hidden_channels": 8})


class FewCells:
    """A stand-in space whose sample() gives a few fixed cells."""

    def __init__(self, cells):
        self.cells = cells

    def sample(self, num, seed=None):
        return self.cells


@pytest.fixture
def tiny_run(tmp_path, monkeypatch):
    """A finished run whose settings count as the paper's (shipped_config patched to a tiny one)."""
    monkeypatch.setattr(shipped, "shipped_config",
                        lambda preset: PretrainConfig(loss=preset, seed=0, **TINY))
    cells = random_cells(24, 5)
    pretrain(shipped.shipped_config("NoMetricLoss"), cells=cells, output_dir=tmp_path / "run")
    return tmp_path / "run", cells


def test_shipped_config_is_the_papers():
    config = shipped_config("MarginLoss")
    assert config.loss == "MarginLoss" and config.seed == 0 and config.optimizer == "sgd"
    assert config.lr == 1.0 and config.lr_milestones == [6000] and config.lr_gamma == 0.2
    assert config.epochs == 2 and config.max_iterations is None and config.num_positives == 7
    with pytest.raises(ValueError, match="unknown metric loss preset 'Nope'"):
        shipped_config("Nope")


def test_write_then_load(tiny_run, tmp_path):
    run, cells = tiny_run
    root = tmp_path / "shipped"
    info = write_shipped(run, root=root, space=FewCells(cells[:10]))
    assert shipped_presets(root) == ("NoMetricLoss",)
    assert info == shipped_info("NoMetricLoss", root)
    assert info["iterations"] == 3 and info["reconstruction"]["cells"] == 10
    trained = NAOController.load(run / "controller.pt")
    loaded = load_shipped("NoMetricLoss", root)
    assert not loaded.training
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in trained.state_dict().items())
    expected = evaluate_reconstruction(trained, cells[:10])
    assert {k: info["reconstruction"][k] for k in expected} == expected

    log = shipped_log("NoMetricLoss", root)
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert set(log) == set(info["log_fields"]) and "metric_loss" not in log  # no metric loss: all null
    np.testing.assert_array_equal(log["iteration"], [1, 2, 3])
    np.testing.assert_allclose(log["recon_loss"], [r["recon_loss"] for r in records], rtol=1e-6)
    assert is_shipped(shipped.shipped_config("NoMetricLoss"), root)
    assert not is_shipped(shipped.shipped_config("NoMetricLoss").replace(seed=1), root)
    assert not is_shipped(shipped.shipped_config("MarginLoss"), root)  # not in that folder

    with pytest.raises(ValueError, match="already holds a shipped controller"):
        write_shipped(run, root=root, space=FewCells(cells[:10]))
    write_shipped(run, root=root, space=FewCells(cells[:10]), overwrite=True)


def test_damaged_files_are_caught(tiny_run, tmp_path):
    run, cells = tiny_run
    root = tmp_path / "shipped"
    write_shipped(run, root=root, space=FewCells(cells[:4]))
    for name, load in (("controller.pt", load_shipped), ("log.npz", shipped_log)):
        path = root / "NoMetricLoss" / name
        original = path.read_bytes()
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x01
        path.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=f"{name}: SHA-256 .* does not match"):
            load("NoMetricLoss", root)
        path.write_bytes(original)
    (root / "NoMetricLoss" / "info.json").write_text("{not json")
    with pytest.raises(ValueError, match="info.json: not a valid shipped-run record"):
        load_shipped("NoMetricLoss", root)
    with pytest.raises(ValueError, match="no shipped controller for 'MarginLoss'"):
        load_shipped("MarginLoss", root)


def test_only_the_papers_finished_runs_ship(tiny_run, tmp_path, monkeypatch):
    run, cells = tiny_run
    config = json.loads((run / "config.json").read_text())
    config["config"]["lr"] = 0.5
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"settings \['lr'\] differ from the paper's"):
        write_shipped(run, root=tmp_path / "a", space=FewCells(cells))
    config["config"]["lr"] = 1.0
    (run / "config.json").write_text(json.dumps(config))
    lines = (run / "log.jsonl").read_text().splitlines()
    (run / "log.jsonl").write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(ValueError, match="did not finish \\(2 of 3 iterations logged\\)"):
        write_shipped(run, root=tmp_path / "a", space=FewCells(cells))


def test_training_seconds_add_up_over_resumes():
    records = [{"elapsed": e} for e in (1.0, 2.0, 3.0, 0.5, 1.5)]
    assert shipped._training_seconds(records) == 4.5


@pytest.fixture(scope="module")
def space():
    from gnnas.space import enumerate_cells

    return enumerate_cells(progress=False)


@pytest.mark.parametrize("preset", shipped_presets())
def test_package_controllers_load_without_training(preset, space, tmp_path, monkeypatch):
    monkeypatch.setenv("GNNAS_CACHE_DIR", str(tmp_path))

    def no_training(*args, **kwargs):
        raise AssertionError("a shipped controller must not be trained")

    monkeypatch.setattr(trainer, "pretrain", no_training)
    controller = pretrained_controller(preset)
    assert not controller.training and not any(tmp_path.iterdir())
    info = shipped_info(preset)
    assert PretrainConfig.from_dict(info["config"]).result_dict() == shipped_config(preset).result_dict()
    assert info["iterations"] == len(shipped_log(preset)["iteration"])
    # the recorded reconstruction is what the shipped weights give on the same 1,000 cells
    report = evaluate_reconstruction(controller, space.sample(RECONSTRUCTION_CELLS, seed=RECONSTRUCTION_SEED))
    for key in ("token_acc", "cell_acc", "decode_acc"):
        assert report[key] == pytest.approx(info["reconstruction"][key], abs=2e-3), key

