r"""An autoregressive decoder from a cell embedding to the 27-token sequence, masked by the grammar."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnnas.nn.grammar import advance, allowed_tokens, check_tokens, grammar_mask, initial_state
from gnnas.space.tokens import PAD, SEQ_LEN, VOCAB_SIZE

__all__ = ["GrammarDecoder"]


class GrammarDecoder(nn.Module):
    r"""A GRU decoder that emits a cell's token sequence, one token at a time, given its embedding.

    The embedding :math:`\mathbf{z}` sets the initial hidden state and is added to the input of
    every step; the input of step :math:`t` also holds the previous token (the start token
    :data:`~gnnas.space.tokens.PAD` at :math:`t = 0`) and the position :math:`t`:

    .. math::
        \mathbf{h}_0 = \tanh(\mathbf{W}_h \mathbf{z}), \quad
        \mathbf{h}_t = \mathrm{GRU}\big(\mathbf{E}_{\mathrm{tok}}[y_{t-1}] + \mathbf{E}_{\mathrm{pos}}[t]
        + \mathbf{W}_z \mathbf{z},\ \mathbf{h}_{t-1}\big), \quad
        p(y_t \mid y_{<t}, \mathbf{z}) = \mathrm{softmax}\big(\mathbf{W}_o \mathbf{h}_t
        + \log \mathbb{1}[y_t \in A_t]\big),

    where :math:`A_t` is the set of tokens allowed by the grammar after :math:`y_{<t}`
    (:mod:`gnnas.nn.grammar`): impossible tokens get probability 0 (log-probability
    :math:`-\infty`), so a grammatical sequence has a finite negative log-likelihood, and a position
    where only one token is allowed (the padding after the output, the op of vertex 6) costs 0.
    Decoding (:meth:`decode`) applies the same mask, so it always yields a valid cell (see the
    guarantees in :mod:`gnnas.nn.grammar`).

    Args:
        in_channels (int): size of the embedding :math:`\mathbf{z}`.
        hidden_channels (int, optional): size of the GRU state and of the token embeddings.
            (default: :obj:`64`)
        num_layers (int, optional): number of stacked GRU layers. (default: :obj:`1`)
        dropout (float, optional): dropout on the GRU outputs (and between GRU layers).
            (default: :obj:`0.`)

    Shapes:
        - **z** :math:`(B, \text{in\_channels})`
        - **tokens** :math:`(B, 27)`, long
        - **log_probs** :math:`(B, 27, 7)`
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, num_layers: int = 1,
                 dropout: float = 0.0) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("hidden_channels", hidden_channels),
                            ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.token_embedding = nn.Embedding(VOCAB_SIZE, hidden_channels)
        self.position_embedding = nn.Embedding(SEQ_LEN, hidden_channels)
        self.input_proj = nn.Linear(in_channels, hidden_channels)
        self.hidden_proj = nn.Linear(in_channels, hidden_channels * num_layers)
        self.gru = nn.GRU(hidden_channels, hidden_channels, num_layers=num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.out_dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_channels, VOCAB_SIZE)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        for module in (self.token_embedding, self.position_embedding, self.input_proj, self.hidden_proj,
                       self.gru, self.out):
            module.reset_parameters()

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments, so that ``GrammarDecoder(**config)`` rebuilds the module."""
        return {"in_channels": self.in_channels, "hidden_channels": self.hidden_channels,
                "num_layers": self.num_layers, "dropout": self.dropout}

    def _check_z(self, z: Tensor) -> None:
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.in_channels:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (B, {self.in_channels}), got {shape}")
        if not z.dtype.is_floating_point:
            raise ValueError(f"z must be a floating-point tensor, got dtype {z.dtype}")

    def _initial_hidden(self, z: Tensor) -> Tensor:
        hidden = torch.tanh(self.hidden_proj(z))  # (B, L * H)
        return hidden.view(z.shape[0], self.num_layers, self.hidden_channels).transpose(0, 1).contiguous()

    def logits(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Returns the unmasked logits of each position under teacher forcing.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.
            tokens (torch.Tensor): target sequences, long ``(B, 27)``.

        Returns:
            torch.Tensor: ``(B, 27, 7)``.
        """
        self._check_z(z)
        check_tokens(tokens)
        if tokens.shape[0] != z.shape[0]:
            raise ValueError(f"z and tokens must hold the same number of cells, got {z.shape[0]} "
                             f"and {tokens.shape[0]}")
        tokens = tokens.long()
        previous = torch.cat([tokens.new_full((tokens.shape[0], 1), PAD), tokens[:, :-1]], dim=1)
        inputs = (self.token_embedding(previous) + self.position_embedding.weight.unsqueeze(0)
                  + self.input_proj(z).unsqueeze(1))  # (B, 27, H)
        outputs, _ = self.gru(inputs, self._initial_hidden(z))  # (B, 27, H)
        return self.out(self.out_dropout(outputs))  # (B, 27, 7)

    def forward(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Returns the grammar-masked log-probabilities of each position under teacher forcing.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.
            tokens (torch.Tensor): target sequences, long ``(B, 27)``, values in ``0 .. 6``.

        Returns:
            torch.Tensor: ``(B, 27, 7)`` log-probabilities; the tokens the grammar forbids after the
            target prefix are :math:`-\\infty`.

        Raises:
            ValueError: if the shapes do not fit or a token lies outside the vocabulary.
        """
        logits = self.logits(z, tokens)
        mask = grammar_mask(tokens)
        return torch.log_softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)

    @torch.no_grad()
    def decode(self, z: Tensor, greedy: bool = True, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        """Decodes embeddings into grammatical token sequences.

        At each step the tokens the grammar forbids are masked out, then the most likely token is
        taken (``greedy=True``) or one is sampled. Every returned row is accepted by
        :meth:`ArchSpec.from_tokens <gnnas.space.spec.ArchSpec.from_tokens>`.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.
            greedy (bool, optional): take the most likely token instead of sampling.
                (default: :obj:`True`)
            generator (torch.Generator, optional): the random generator for sampling.
                (default: :obj:`None`)
            temperature (float, optional): divides the logits before sampling. (default: :obj:`1.`)

        Returns:
            torch.Tensor: long ``(B, 27)``.

        Raises:
            ValueError: if ``z`` has the wrong shape, or ``temperature`` is not positive.
        """
        self._check_z(z)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        batch_size = z.shape[0]
        hidden = self._initial_hidden(z)
        conditioning = self.input_proj(z)  # (B, H)
        previous = torch.full((batch_size,), PAD, dtype=torch.long, device=z.device)
        state = initial_state(batch_size, z.device)
        tokens = []
        for position in range(SEQ_LEN):
            step_input = (self.token_embedding(previous) + self.position_embedding.weight[position]
                          + conditioning).unsqueeze(1)  # (B, 1, H)
            output, hidden = self.gru(step_input, hidden)
            logits = self.out(self.out_dropout(output.squeeze(1)))  # (B, 7)
            logits = logits.masked_fill(~allowed_tokens(state), float("-inf"))
            if greedy:
                token = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            tokens.append(token)
            state = advance(state, token)
            previous = token
        return torch.stack(tokens, dim=1)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, hidden_channels={self.hidden_channels}, "
                f"num_layers={self.num_layers})")
