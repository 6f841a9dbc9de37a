r"""A performance predictor: an MLP from a cell embedding to one scalar."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnnas.nn.utils import _check_dropout, _check_positive_ints

__all__ = ["MLPPredictor"]


class MLPPredictor(nn.Module):
    r"""The performance predictor of NAO, `"Neural Architecture Optimization"
    <https://arxiv.org/abs/1808.07233>`_: an MLP from the embedding to the predicted accuracy.

    .. math::
        f(\mathbf{z}) = \sigma\big(\mathbf{w}^\top \mathrm{MLP}(\mathbf{z}) + b\big)

    with ReLU hidden layers; the sigmoid :math:`\sigma` (as in NAO, whose targets are accuracies in
    :math:`[0, 1]`) can be turned off for unbounded targets.

    Args:
        in_channels (int): size of the embedding.
        hidden_channels (int, optional): width of the hidden layers. (default: :obj:`64`)
        num_layers (int, optional): number of linear layers, the output layer included; ``1`` is a
            linear model. (default: :obj:`2`)
        dropout (float, optional): dropout after each hidden layer. (default: :obj:`0.`)
        sigmoid (bool, optional): squash the output into :math:`(0, 1)`. (default: :obj:`True`)

    Raises:
        ValueError: if a size is not a positive integer or ``dropout`` is outside ``[0, 1)``.

    Shapes:
        - **z** :math:`(B, \text{in\_channels})`
        - **output** :math:`(B,)`
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 sigmoid: bool = True) -> None:
        super().__init__()
        _check_positive_ints(in_channels=in_channels, hidden_channels=hidden_channels, num_layers=num_layers)
        _check_dropout(dropout)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.sigmoid = sigmoid
        layers: list[nn.Module] = []
        channels = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(channels, hidden_channels), nn.ReLU(), nn.Dropout(dropout)]
            channels = hidden_channels
        layers.append(nn.Linear(channels, 1))
        self.mlp = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments.

        Returns:
            dict: the arguments, so that ``MLPPredictor(**config)`` rebuilds the module.
        """
        return {"in_channels": self.in_channels, "hidden_channels": self.hidden_channels,
                "num_layers": self.num_layers, "dropout": self.dropout, "sigmoid": self.sigmoid}

    def forward(self, z: Tensor) -> Tensor:
        """Predicts one scalar per cell.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.

        Returns:
            torch.Tensor: ``(B,)``.

        Raises:
            ValueError: if ``z`` does not have shape ``(B, in_channels)``.
        """
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.in_channels:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (B, {self.in_channels}), got {shape}")
        out = self.mlp(z).squeeze(-1)
        return torch.sigmoid(out) if self.sigmoid else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, hidden_channels={self.hidden_channels}, "
                f"num_layers={self.num_layers}, sigmoid={self.sigmoid})")
