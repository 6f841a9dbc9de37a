import sys

import pytest
import torch

from gnnas import ArchSpec, NAOController
from gnnas.files import DamagedFileError, checksum_path, load_torch, save_torch
from gnnas.nn import GINEncoder, GrammarDecoder, MLPPredictor, cells_to_batch
from gnnas.nn.grammar import grammar_mask

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
    # a grammar mask carried by the batch replaces the decoder's own computation, exactly
    batch.grammar_mask = grammar_mask(batch.tokens)
    with_mask = controller(batch, target)
    assert torch.equal(with_mask["log_probs"], out["log_probs"])
    assert torch.equal(with_mask["loss"], out["loss"])
    del batch.grammar_mask
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


def test_short_training_lowers_the_joint_loss():
    controller = small_controller()
    cells = random_cells(16, seed=3)
    batch = cells_to_batch(cells)
    target = torch.linspace(0.8, 0.95, 16)
    optimizer = torch.optim.Adam(controller.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        out = controller(batch, target)
        optimizer.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(controller.parameters(), 5.0)
        optimizer.step()
        losses.append(out["loss"].item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(isinstance(cell, ArchSpec) for cell in controller.decode(controller.encode(batch)))


def test_move_follows_the_predictor_gradient():
    controller = small_controller(normalize=False)
    z = controller.encode(random_cells(8, seed=4)).detach()
    before = controller.predict(z)
    after = controller.predict(controller.move(z, 0.5))
    assert (after > before).all()
    lower = controller.predict(controller.move(z, -0.5))
    assert (lower < before).all()
    per_cell = controller.move(z, torch.zeros(8))
    assert torch.allclose(per_cell, z)
    normalised = small_controller().move(torch.randn(8, 32), 3.0)
    assert torch.allclose(normalised.norm(dim=1), torch.ones(8))


def test_generate_and_decode_are_valid_for_moved_embeddings():
    controller = small_controller()
    cells = random_cells(100, seed=5)
    for step in (1.0, 10.0, 100.0, 1000.0):
        new = controller.generate(cells, step_size=step)
        assert len(new) == 100 and all(isinstance(cell, ArchSpec) for cell in new)
    sampled = controller.generate(cells[:10], 5.0, greedy=False, generator=torch.Generator().manual_seed(0))
    again = controller.generate(cells[:10], 5.0, greedy=False, generator=torch.Generator().manual_seed(0))
    assert sampled == again


def test_device_moves():
    controller = small_controller().to("cpu")
    assert controller.encode(random_cells(2, seed=6)).device.type == "cpu"


def test_custom_parts_and_mismatch():
    encoder = GINEncoder(out_channels=16)
    controller = NAOController(encoder=encoder)
    assert controller.decoder.in_channels == 16 and controller.predictor.in_channels == 16
    with pytest.raises(ValueError, match="decoder takes embeddings of size 32"):
        NAOController(encoder=encoder, decoder=GrammarDecoder(32))


def test_bad_input(tmp_path):
    controller = small_controller()
    batch = cells_to_batch(random_cells(3, seed=7))
    with pytest.raises(ValueError, match="target must have shape"):
        controller(batch, torch.rand(4))
    wrong = batch.clone()
    wrong.tokens = wrong.tokens[:, :26]
    with pytest.raises(ValueError, match="tokens must have shape"):
        controller(wrong)
    with pytest.raises(ValueError, match="step_size"):
        controller.move(torch.randn(3, 32), torch.ones(2))
    # an unpruned graph without tokens
    from torch_geometric.data import Data
    x = torch.eye(5)[[0, 1, 2, 4]]
    dangling = Data(x=x, edge_index=torch.tensor([[0, 0, 1], [1, 2, 3]]), num_nodes=4)
    with pytest.raises(ValueError, match="not a pruned cell"):
        controller(dangling)
    path = tmp_path / "not_a_controller.pt"
    save_torch({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a saved NAOController"):
        NAOController.load(path)


def saved_file(tmp_path, change=None):
    """A saved small controller, its file's content changed by ``change(content)`` and re-signed."""
    path = tmp_path / "controller.pt"
    small_controller(embedding_channels=8, encoder_kwargs={"hidden_channels": 8},
                     decoder_kwargs={"hidden_channels": 8}).save(path)
    if change is not None:
        content = load_torch(path)
        change(content)
        save_torch(content, path)  # a valid checksum: only the content is wrong
    return path


def test_load_never_imports_a_module_the_file_names(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "planted_parts.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from gnnas.nn import GINEncoder as Encoder\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = saved_file(tmp_path, lambda c: c["config"]["encoder"].update({"class": "planted_parts:Encoder"}))
    with pytest.raises(DamagedFileError, match="encoder class 'planted_parts:Encoder' is not a gnnas part"):
        NAOController.load(path)
    for name in ("os:system", "builtins:eval", "torch.nn:Linear", "Linear"):
        path = saved_file(tmp_path, lambda c, name=name: c["config"]["decoder"].update({"class": name}))
        with pytest.raises(DamagedFileError, match="not a gnnas part class"):
            NAOController.load(path)
    assert not marker.exists() and "planted_parts" not in sys.modules


class WideEncoder(GINEncoder):
    """A part class of the user's own."""


def test_own_part_classes_are_passed_explicitly(tmp_path):
    torch.manual_seed(0)
    controller = NAOController(encoder=WideEncoder(out_channels=8, hidden_channels=8))
    path = tmp_path / "own.pt"
    controller.save(path)
    with pytest.raises(DamagedFileError, match="NAOController.load\\(path, classes="):
        NAOController.load(path)
    loaded = NAOController.load(path, classes=[WideEncoder])
    assert type(loaded.encoder) is WideEncoder
    assert all(torch.equal(v, controller.state_dict()[k]) for k, v in loaded.state_dict().items())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["config"]["encoder"]["kwargs"].update(hidden_channels=10**9), "does not build"),
        (lambda c: c["config"]["encoder"]["kwargs"].update(hidden_channels=4096), "do not fit"),
        (lambda c: c["config"]["decoder"]["kwargs"].update(hidden_channels=2**40), "does not build|not fit"),
        (lambda c: c["config"]["encoder"]["kwargs"].update(bogus=1), "does not build a controller"),
        (lambda c: c["config"]["encoder"]["kwargs"].update(hidden_channels=-3), "does not build"),
        (lambda c: c["config"]["predictor"]["kwargs"].update(x=[object.__name__, {"a": 1}]), "plain"),
        (lambda c: c["config"].update(trade_off=7.0), "does not build"),
        (lambda c: c["config"].pop("decoder"), "decoder entry is malformed"),
        (lambda c: c["state_dict"].popitem(), "do not fit"),
        (lambda c: c["state_dict"].update(extra=torch.zeros(1)), "do not fit"),
        (lambda c: c.update(format="other"), "not a saved NAOController"),
        (lambda c: c.update(state_dict=[1, 2]), "no configuration or weights"),
    ],
)
def test_saved_configuration_that_does_not_fit(tmp_path, change, message):
    path = saved_file(tmp_path, change)
    with pytest.raises(DamagedFileError, match=message) as caught:
        NAOController.load(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_damaged_controller_files(tmp_path):
    path = saved_file(tmp_path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x10
    path.write_bytes(bytes(content))
    with pytest.raises(DamagedFileError, match="does not match its checksum"):
        NAOController.load(path)
    path.write_bytes(b"")
    with pytest.raises(DamagedFileError, match="does not match its checksum"):
        NAOController.load(path)
    path = saved_file(tmp_path)
    checksum_path(path).unlink()
    with pytest.raises(DamagedFileError, match="no checksum file"):
        NAOController.load(path)


def test_files_of_gnnas_010_with_the_decoder_masks_still_load(tmp_path):
    path = saved_file(tmp_path)
    controller = NAOController.load(path)
    masks = {f"decoder.backbone.{name}": getattr(controller.decoder.backbone, name)
             for name in ("input_mask", "hidden_mask", "out_mask")}
    saved_file(tmp_path, lambda c: c["state_dict"].update(masks))
    loaded = NAOController.load(path)
    assert all(torch.equal(v, controller.state_dict()[k]) for k, v in loaded.state_dict().items())
    wrong = {k: 1 - v for k, v in masks.items()}
    saved_file(tmp_path, lambda c: c["state_dict"].update(wrong))
    with pytest.raises(DamagedFileError, match="do not fit.*does not match the decoder's sizes"):
        NAOController.load(path)


def test_sizes_that_would_allocate_far_more_than_the_file_holds(tmp_path):
    kwargs = dict(embedding_channels=8, decoder_kwargs={"hidden_channels": 12000, "num_layers": 1})
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in NAOController(**kwargs).state_dict().items()}
    weights = {k: torch.zeros(shape, dtype=torch.float16) for k, shape in shapes.items()}
    config = small_controller(**kwargs | {"decoder_kwargs": {"hidden_channels": 8}}).get_config()
    config["decoder"]["kwargs"].update(hidden_channels=12000, num_layers=1)
    path = tmp_path / "wide.pt"
    save_torch({"format": "gnnas.NAOController", "version": 1, "config": config, "state_dict": weights}, path)
    with pytest.raises(DamagedFileError, match="would allocate .* GiB for .* MiB of saved weights"):
        NAOController.load(path)


def test_encode_takes_a_cell_array():
    from gnnas.space import CellArray

    torch.manual_seed(0)
    controller = NAOController().eval()
    cells = random_cells(6, seed=3)
    with torch.no_grad():
        assert torch.equal(controller.encode(CellArray.from_specs(cells)), controller.encode(cells))


@pytest.mark.parametrize("kwargs, message", [
    ({"encoder_kwargs": {"bogus": 1}}, "unexpected keyword argument 'bogus'"),
    ({"bogus": 1}, "unexpected keyword argument 'bogus'"),
    ({"encoder_kwargs": {"hidden_channels": 10**7}}, "hidden_channels must be at most 1,048,576"),
    ({"decoder_kwargs": {"num_layers": 10**9}}, "num_layers must be at most 256"),
    ({"embedding_channels": 10**7}, "must be at most"),
    ({"encoder_kwargs": {"hidden_channels": 60_000}}, "the controller would have .* more than"),
    ({"decoder_kwargs": {"dropout": "x"}}, "dropout must lie in"),
    ({"encoder": 5}, "encoder must be a torch.nn.Module"),
    ({"trade_off": "high"}, "bad controller arguments|could not convert"),
])
def test_check_controller_arguments(kwargs, message):
    import time

    from gnnas.nn.controller import check_controller_arguments

    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        check_controller_arguments(**kwargs)
    assert time.perf_counter() - start < 30  # nothing is allocated
    check_controller_arguments(encoder_kwargs={"hidden_channels": 64}, embedding_channels=16)
