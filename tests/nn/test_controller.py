import pytest
import torch

from gnnas import ArchSpec, NAOController
from gnnas.nn import GINEncoder, GrammarDecoder, MLPPredictor, cells_to_batch

from .cells import random_cells


def small_controller(**kwargs) -> NAOController:
    torch.manual_seed(0)
    return NAOController(**kwargs)


def test_repr_and_defaults():
    controller = small_controller()
    assert isinstance(controller.encoder, GINEncoder)
    assert isinstance(controller.decoder, GrammarDecoder)
    assert isinstance(controller.predictor, MLPPredictor)
    assert repr(controller).startswith("NAOController(\n  encoder=GINEncoder(5, 32")


def test_forward_shapes_and_joint_loss():
    controller = small_controller()
    cells = random_cells(10, seed=0)
    batch = cells_to_batch(cells)
    assert batch.tokens.shape == (10, 27)
    target = torch.rand(10)
    out = controller(batch, target)
    assert sorted(out) == ["log_probs", "loss", "mse", "nll", "prediction", "z"]
    assert out["z"].shape == (10, 32)
    assert torch.allclose(out["z"].norm(dim=1), torch.ones(10))
    assert out["prediction"].shape == (10,)
    assert out["log_probs"].shape == (10, 27, 7)
    assert torch.isfinite(out["nll"])
    expected = 0.5 * torch.nn.functional.mse_loss(out["prediction"], target) + 0.5 * out["nll"]
    assert torch.allclose(out["loss"], expected)
    nll = controller.reconstruction_loss(out["z"], batch.tokens)
    assert torch.allclose(nll, out["nll"])
    # without attached tokens, they are computed from the graphs
    del batch.tokens
    assert torch.allclose(controller(batch)["nll"], out["nll"])
    assert torch.allclose(controller(batch)["loss"], out["nll"])


def test_decode_gives_valid_cells():
    controller = small_controller()
    cells = controller.decode(torch.randn(50, 32))
    assert len(cells) == 50 and all(isinstance(cell, ArchSpec) for cell in cells)


def test_save_load_round_trip(tmp_path):
    controller = small_controller(embedding_channels=16, encoder_kwargs={"hidden_channels": 32},
                                  decoder_kwargs={"hidden_channels": 24}, trade_off=0.3)
    path = tmp_path / "controller.pt"
    controller.save(path)
    loaded = NAOController.load(path)
    assert loaded.trade_off == 0.3
    assert loaded.encoder.get_config() == controller.encoder.get_config()
    assert loaded.decoder.get_config() == controller.decoder.get_config()
    batch = cells_to_batch(random_cells(5, seed=1))
    controller.eval()
    loaded.eval()
    for key in ("z", "prediction", "log_probs"):
        assert torch.equal(controller(batch)[key], loaded(batch)[key])
    z = controller.encode(batch)
    assert torch.equal(controller.decoder.decode(z), loaded.decoder.decode(z))


def test_generate():
    controller = small_controller()
    cells = random_cells(8, seed=2)
    new = controller.generate(cells, step_size=10.0)
    assert len(new) == 8 and all(isinstance(cell, ArchSpec) for cell in new)
    assert controller.training


@pytest.mark.parametrize("trade_off", [-0.1, 1.5])
def test_bad_trade_off(trade_off):
    with pytest.raises(ValueError, match="trade_off"):
        NAOController(trade_off=trade_off)
