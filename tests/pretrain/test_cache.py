import pytest
import torch

import gnnas.pretrain.trainer as trainer
from gnnas.nn import NAOController
from gnnas.pretrain import PretrainConfig, pretrained_controller
from gnnas.pretrain.cache import cache_key, cache_root

from .helpers import random_cells

SMALL = dict(loss="NoMetricLoss", batch_size=16, num_positives=3, max_iterations=2, device="cpu",
             progress=False, encoder={"hidden_channels": 8, "num_layers": 1, "out_channels": 4},
             decoder={"hidden_channels": 8})


def test_trains_once_then_loads(tmp_path, monkeypatch):
    cells = random_cells(24, 3)
    config = PretrainConfig(**SMALL)
    first = pretrained_controller(config=config, cells=cells, cells_key="random24", cache_dir=tmp_path)
    assert isinstance(first, NAOController) and not first.training
    (folder,) = (tmp_path / "pretrain").iterdir()
    assert folder.name == f"NoMetricLoss-{cache_key(config, {'cells': 'random24'})}"
    assert (folder / "controller.pt").exists() and (folder / "log.jsonl").exists()

    def no_training(*args, **kwargs):
        raise AssertionError("the cached controller should have been loaded")

    monkeypatch.setattr(trainer, "pretrain", no_training)
    again = pretrained_controller(config=config.replace(progress=True, log_interval=7), cells=cells,
                                  cells_key="random24", cache_dir=tmp_path)  # runtime settings: same key
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in first.state_dict().items())


def test_keys_and_errors(tmp_path, monkeypatch):
    config = PretrainConfig(**SMALL)
    assert cache_key(config) == cache_key(config.replace(device="auto", num_workers=3))
    assert cache_key(config) != cache_key(config.replace(seed=1))
    assert cache_key(config) != cache_key(config, {"cells": "other"})
    monkeypatch.setenv("GNNAS_CACHE_DIR", str(tmp_path))
    assert cache_root() == tmp_path and cache_root(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(ValueError, match="cells_key"):
        pretrained_controller(config=config, cells=random_cells(4, 0))
    with pytest.raises(ValueError, match="either config or preset"):
        pretrained_controller("AngularLoss", config=config)
    with pytest.raises(ValueError, match="either config or preset"):
        pretrained_controller(config=config, lr=0.1)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        pretrained_controller("MarginLoss", iterations=10, optimizer="lbfgs")
    with pytest.raises(ValueError, match="unknown loss 'Nope'"):
        pretrained_controller("Nope")
