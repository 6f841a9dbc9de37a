import pytest
import torch

from gnnas.nn import MLPPredictor


def test_repr_shapes_and_range():
    torch.manual_seed(0)
    predictor = MLPPredictor(8, hidden_channels=16, num_layers=3)
    assert repr(predictor) == "MLPPredictor(8, hidden_channels=16, num_layers=3, sigmoid=True)"
    out = predictor(torch.randn(10, 8) * 100)
    assert out.shape == (10,) and ((out >= 0) & (out <= 1)).all()
    linear = MLPPredictor(8, num_layers=1, sigmoid=False)
    z = torch.randn(4, 8)
    expected = z @ linear.mlp[0].weight.t() + linear.mlp[0].bias
    assert torch.allclose(linear(z), expected.squeeze(1))
    assert MLPPredictor(**predictor.get_config()).get_config() == predictor.get_config()


def test_fits_a_function():
    torch.manual_seed(0)
    predictor = MLPPredictor(4)
    z = torch.randn(64, 4)
    target = torch.sigmoid(z[:, 0] - z[:, 1])
    optimizer = torch.optim.Adam(predictor.parameters(), lr=1e-2)
    first = None
    for _ in range(200):
        loss = torch.nn.functional.mse_loss(predictor(z), target)
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1 * first


def test_bad_input():
    predictor = MLPPredictor(8)
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        predictor(torch.randn(3, 7))
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        predictor(torch.randn(8))
    with pytest.raises(ValueError, match="num_layers"):
        MLPPredictor(8, num_layers=0)
