r"""Autoregressive sequence models behind :class:`~gnnas.nn.decoder.GrammarDecoder`.

Each backbone maps an embedding :math:`\mathbf{z}` and a token sequence :math:`y` to logits of shape
``(B, 27, 7)`` where position :math:`t` depends only on :math:`\mathbf{z}` and :math:`y_{<t}`
(teacher forcing, ``forward``), and produces the logits of one position at a time while
decoding (``start`` and ``step``).

- :class:`MADEBackbone`: a masked autoregressive MLP, `"MADE: Masked Autoencoder for Distribution
  Estimation" <https://arxiv.org/abs/1502.03509>`_, conditioned on :math:`\mathbf{z}`. All positions
  come out of a few dense matrix products, which makes it the fastest to train on a CPU.
- :class:`RNNBackbone`: a GRU or LSTM, as NAO's decoder (which is an LSTM with attention over the
  encoder's outputs; a graph encoder has one embedding per cell, so there is nothing to attend to).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnnas.space.tokens import PAD, SEQ_LEN, VOCAB_SIZE

__all__ = ["MADEBackbone", "RNNBackbone"]


class MADEBackbone(nn.Module):
    r"""A masked autoregressive MLP over the one-hot token sequence, conditioned on the embedding.

    The input is the one-hot sequence (:math:`27 \times 7` units; the units of position :math:`p`
    have degree :math:`p + 1`) and :math:`\mathbf{z}` (degree 0, seen by every unit). Hidden unit
    :math:`k` has a degree :math:`m_k \in \{0, \dots, 26\}` and sees the inputs of degree at most
    :math:`m_k` (and, in deeper layers, the hidden units of degree at most :math:`m_k`); the output of
    position :math:`t` sees the last hidden units of degree at most :math:`t`. So position :math:`t`
    depends on :math:`y_{<t}` only. A quarter of the units have degree 0 (they see
    :math:`\mathbf{z}` alone and serve every position); the others cycle through
    :math:`1, \dots, 26`.

    Args:
        in_channels (int): size of :math:`\mathbf{z}`.
        hidden_channels (int): units per hidden layer.
        num_layers (int): number of hidden layers.
        dropout (float): dropout after each hidden layer.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.dropout = dropout
        degrees = torch.arange(hidden_channels)
        num_free = hidden_channels // 4
        degrees = torch.where(degrees < num_free, 0, (degrees - num_free) % (SEQ_LEN - 1) + 1)
        input_degrees = torch.arange(SEQ_LEN).repeat_interleave(VOCAB_SIZE) + 1  # (27 * 7,)
        self.z_proj = nn.Linear(in_channels, hidden_channels)
        self.input = nn.Linear(SEQ_LEN * VOCAB_SIZE, hidden_channels, bias=False)
        # The masks follow from the sizes: not saved with the weights (persistent=False).
        self.register_buffer("input_mask", (input_degrees.unsqueeze(0) <= degrees.unsqueeze(1)).float(),
                             persistent=False)
        self.hidden = nn.ModuleList(
            nn.Linear(hidden_channels, hidden_channels) for _ in range(num_layers - 1))
        self.register_buffer("hidden_mask", (degrees.unsqueeze(0) <= degrees.unsqueeze(1)).float(),
                             persistent=False)
        self.out_weight = nn.Parameter(torch.empty(SEQ_LEN, VOCAB_SIZE, hidden_channels))
        self.out_bias = nn.Parameter(torch.empty(SEQ_LEN, VOCAB_SIZE))
        positions = torch.arange(SEQ_LEN)
        self.register_buffer("out_mask", (degrees.unsqueeze(0) <= positions.unsqueeze(1)).float(),
                             persistent=False)  # (27, H)
        self.reset_parameters()

    _MASKS = ("input_mask", "hidden_mask", "out_mask")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: D102 (nn.Module hook)
        # Files of gnnas 0.1.0 saved the masks too; they must equal the ones the sizes give.
        for name in self._MASKS:
            saved = state_dict.pop(prefix + name, None)
            if saved is not None and not torch.equal(saved.to(getattr(self, name)), getattr(self, name)):
                raise ValueError(f"the saved {prefix + name} does not match the decoder's sizes")
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        self.z_proj.reset_parameters()
        self.input.reset_parameters()
        for layer in self.hidden:
            layer.reset_parameters()
        bound = 1.0 / self.out_weight.shape[-1] ** 0.5
        nn.init.uniform_(self.out_weight, -bound, bound)
        nn.init.zeros_(self.out_bias)

    def _hidden(self, z: Tensor, tokens: Tensor) -> Tensor:
        one_hot = nn.functional.one_hot(tokens, VOCAB_SIZE).flatten(1).to(z.dtype)  # (B, 189)
        pre = self.z_proj(z) + nn.functional.linear(one_hot, self.input.weight * self.input_mask)  # (B, H)
        return self._layers(pre)

    def _layers(self, pre: Tensor) -> Tensor:
        h = nn.functional.dropout(torch.relu(pre), self.dropout, self.training)
        for layer in self.hidden:
            h = torch.relu(nn.functional.linear(h, layer.weight * self.hidden_mask, layer.bias))
            h = nn.functional.dropout(h, self.dropout, self.training)
        return h  # (B, H)

    def forward(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Returns the teacher-forced logits of ``tokens``.

        Args:
            z (torch.Tensor): ``(B, D)`` cell embeddings.
            tokens (torch.Tensor): long ``(B, 27)`` target tokens; position ``t`` sees those before it.

        Returns:
            torch.Tensor: ``(B, 27, 7)`` logits.
        """
        h = self._hidden(z, tokens)
        weight = self.out_weight * self.out_mask.unsqueeze(1)  # (27, 7, H)
        return (h @ weight.flatten(0, 1).t()).view(-1, SEQ_LEN, VOCAB_SIZE) + self.out_bias

    def start(self, z: Tensor) -> dict[str, Any]:
        """Starts step-by-step decoding.

        Args:
            z (torch.Tensor): ``(B, D)`` cell embeddings.

        Returns:
            dict: the decoding cache for :meth:`step`: the first layer's pre-activation given the
            embedding alone and the masked input weights.
        """
        return {"pre": self.z_proj(z), "input_weight": (self.input.weight * self.input_mask).t()}

    def step(self, cache: dict[str, Any], position: int, previous: Tensor) -> Tensor:
        """Returns the logits of ``position`` given the token ``previous`` at ``position - 1``.

        The first layer is updated incrementally: the token at ``position - 1`` adds one column of
        the masked input weights to its pre-activation.

        Args:
            cache (dict): :meth:`start`'s cache, updated in place.
            position (int): the position decoded, ``0 .. 26`` in order.
            previous (torch.Tensor): long ``(B,)`` tokens chosen at ``position - 1`` (ignored at 0).

        Returns:
            torch.Tensor: ``(B, 7)`` logits.
        """
        if position > 0:
            cache["pre"] = cache["pre"] + cache["input_weight"][(position - 1) * VOCAB_SIZE + previous]
        h = self._layers(cache["pre"])
        weight = self.out_weight[position] * self.out_mask[position]  # (7, H)
        return h @ weight.t() + self.out_bias[position]


class RNNBackbone(nn.Module):
    r"""A GRU or LSTM over the previous tokens, started from and fed with the embedding.

    .. math::
        \mathbf{h}_0 = \tanh(\mathbf{W}_h \mathbf{z}), \quad
        \mathbf{h}_t = \mathrm{RNN}\big(\mathbf{E}_{\mathrm{tok}}[y_{t-1}] + \mathbf{E}_{\mathrm{pos}}[t]
        + \mathbf{W}_z \mathbf{z},\ \mathbf{h}_{t-1}\big), \quad
        \mathrm{logits}_t = \mathbf{W}_o \mathbf{h}_t,

    with :math:`y_{-1}` the start token :data:`~gnnas.space.tokens.PAD` (an LSTM's cell state starts
    at 0).

    Args:
        in_channels (int): size of :math:`\mathbf{z}`.
        hidden_channels (int): size of the state and of the token embeddings.
        num_layers (int): stacked RNN layers.
        dropout (float): dropout on the RNN outputs and between layers.
        cell (str): ``'gru'`` or ``'lstm'``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int, dropout: float,
                 cell: str) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.cell = cell
        self.token_embedding = nn.Embedding(VOCAB_SIZE, hidden_channels)
        self.position_embedding = nn.Embedding(SEQ_LEN, hidden_channels)
        self.input_proj = nn.Linear(in_channels, hidden_channels)
        self.hidden_proj = nn.Linear(in_channels, hidden_channels * num_layers)
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(hidden_channels, hidden_channels, num_layers=num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.out_dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_channels, VOCAB_SIZE)

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        for module in (self.token_embedding, self.position_embedding, self.input_proj, self.hidden_proj,
                       self.rnn, self.out):
            module.reset_parameters()

    def _initial_state(self, z: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        hidden = torch.tanh(self.hidden_proj(z)).view(z.shape[0], self.num_layers, self.hidden_channels)
        hidden = hidden.transpose(0, 1).contiguous()  # (L, B, H)
        return hidden if self.cell == "gru" else (hidden, torch.zeros_like(hidden))

    def forward(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Returns the teacher-forced logits of ``tokens``.

        Args:
            z (torch.Tensor): ``(B, D)`` cell embeddings.
            tokens (torch.Tensor): long ``(B, 27)`` target tokens; position ``t`` sees those before it.

        Returns:
            torch.Tensor: ``(B, 27, 7)`` logits.
        """
        previous = torch.cat([tokens.new_full((tokens.shape[0], 1), PAD), tokens[:, :-1]], dim=1)
        inputs = (self.token_embedding(previous) + self.position_embedding.weight.unsqueeze(0)
                  + self.input_proj(z).unsqueeze(1))  # (B, 27, H)
        outputs, _ = self.rnn(inputs, self._initial_state(z))  # (B, 27, H)
        return self.out(self.out_dropout(outputs))

    def start(self, z: Tensor) -> dict[str, Any]:
        """Starts step-by-step decoding.

        Args:
            z (torch.Tensor): ``(B, D)`` cell embeddings.

        Returns:
            dict: the decoding cache for :meth:`step`: the initial state and the conditioning input.
        """
        return {"state": self._initial_state(z), "conditioning": self.input_proj(z)}

    def step(self, cache: dict[str, Any], position: int, previous: Tensor) -> Tensor:
        """Returns the logits of ``position`` given the token ``previous`` at ``position - 1``.

        Args:
            cache (dict): :meth:`start`'s cache, updated in place.
            position (int): the position decoded, ``0 .. 26`` in order.
            previous (torch.Tensor): long ``(B,)`` tokens chosen at ``position - 1`` (a padding
                token at 0).

        Returns:
            torch.Tensor: ``(B, 7)`` logits.
        """
        step_input = (self.token_embedding(previous) + self.position_embedding.weight[position]
                      + cache["conditioning"]).unsqueeze(1)  # (B, 1, H)
        output, cache["state"] = self.rnn(step_input, cache["state"])
        return self.out(self.out_dropout(output.squeeze(1)))
