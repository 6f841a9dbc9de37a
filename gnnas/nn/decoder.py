"""An autoregressive decoder from a cell embedding to the 27-token sequence, masked by the grammar."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnnas.nn.backbones import MADEBackbone, RNNBackbone
from gnnas.nn.grammar import advance, allowed_tokens, check_tokens, grammar_mask, initial_state
from gnnas.nn.utils import _check_dropout, _check_positive_ints
from gnnas.space.tokens import PAD, SEQ_LEN

__all__ = ["GrammarDecoder"]

_BACKBONES = ("made", "gru", "lstm")


class GrammarDecoder(nn.Module):
    r"""An autoregressive decoder that emits a cell's token sequence given its embedding, masked by the
    token grammar.

    A backbone (:mod:`gnnas.nn.backbones`) turns the embedding :math:`\mathbf{z}` and the previous
    tokens into logits; the grammar (:mod:`gnnas.nn.grammar`) then removes the tokens that cannot
    lead to a valid cell:

    .. math::
        p(y_t \mid y_{<t}, \mathbf{z}) = \mathrm{softmax}\big(\mathrm{logits}_t(\mathbf{z}, y_{<t})
        + \log \mathbb{1}[y_t \in A(y_{<t})]\big),

    where :math:`A(y_{<t})` is the set of allowed tokens. Impossible tokens get probability 0
    (log-probability :math:`-\infty`), so a grammatical sequence has a finite negative
    log-likelihood, and a position where only one token is allowed (the padding after the output,
    the op of vertex 6) costs exactly 0. :meth:`decode` applies the same mask, so every embedding
    decodes to a valid cell (see the guarantees in :mod:`gnnas.nn.grammar`).

    Args:
        in_channels (int): size of the embedding :math:`\mathbf{z}`.
        hidden_channels (int, optional): width of the backbone. (default: :obj:`256`)
        num_layers (int, optional): hidden layers of the backbone. (default: :obj:`2`)
        dropout (float, optional): dropout inside the backbone. (default: :obj:`0.`)
        backbone (str, optional): ``'made'`` (a masked autoregressive MLP, the fastest),
            ``'gru'`` or ``'lstm'`` (as NAO). (default: :obj:`'made'`)

    Raises:
        ValueError: if a size is not a positive integer, ``dropout`` is outside ``[0, 1)``, or
            ``backbone`` is unknown.

    Shapes:
        - **z** :math:`(B, \text{in\_channels})`
        - **tokens** :math:`(B, 27)`, long
        - **log_probs** :math:`(B, 27, 7)`
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256, num_layers: int = 2,
                 dropout: float = 0.0, backbone: str = "made") -> None:
        super().__init__()
        _check_positive_ints(in_channels=in_channels, hidden_channels=hidden_channels, num_layers=num_layers)
        _check_dropout(dropout)
        if backbone not in _BACKBONES:
            raise ValueError(f"backbone must be one of {list(_BACKBONES)}, got {backbone!r}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = dropout
        self.backbone_name = backbone
        if backbone == "made":
            self.backbone: nn.Module = MADEBackbone(in_channels, hidden_channels, num_layers, dropout)
        else:
            self.backbone = RNNBackbone(in_channels, hidden_channels, num_layers, dropout, cell=backbone)

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        self.backbone.reset_parameters()

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments.

        Returns:
            dict: the arguments, so that ``GrammarDecoder(**config)`` rebuilds the module.
        """
        return {"in_channels": self.in_channels, "hidden_channels": self.hidden_channels,
                "num_layers": self.num_layers, "dropout": self.dropout, "backbone": self.backbone_name}

    def _check_z(self, z: Tensor) -> None:
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.in_channels:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (B, {self.in_channels}), got {shape}")
        if not z.dtype.is_floating_point:
            raise ValueError(f"z must be a floating-point tensor, got dtype {z.dtype}")

    def logits(self, z: Tensor, tokens: Tensor) -> Tensor:
        """Returns the unmasked logits of each position under teacher forcing.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.
            tokens (torch.Tensor): target sequences, long ``(B, 27)``.

        Returns:
            torch.Tensor: ``(B, 27, 7)``.

        Raises:
            ValueError: if the shapes do not fit or a token lies outside the vocabulary.
        """
        self._check_z(z)
        check_tokens(tokens)
        if tokens.shape[0] != z.shape[0]:
            raise ValueError(f"z and tokens must hold the same number of cells, got {z.shape[0]} "
                             f"and {tokens.shape[0]}")
        return self.backbone(z, tokens.long())

    def forward(self, z: Tensor, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        r"""Returns the grammar-masked log-probabilities of each position under teacher forcing.

        Args:
            z (torch.Tensor): embeddings, ``(B, in_channels)``.
            tokens (torch.Tensor): target sequences, long ``(B, 27)``, values in ``0 .. 6``.
            mask (torch.Tensor, optional): ``grammar_mask(tokens)``, bool ``(B, 27, 7)``, when the
                caller has it already (NAO trains on the same cells for many epochs); not checked
                against ``tokens``. (default: :obj:`None`, computed here)

        Returns:
            torch.Tensor: ``(B, 27, 7)`` log-probabilities; the tokens the grammar forbids after the
            target prefix are :math:`-\infty`. (After a token the grammar forbids, a position where
            no token is allowed is left unmasked, so no entry is NaN.)

        Raises:
            ValueError: if the shapes do not fit, a token lies outside the vocabulary, or ``mask``
                is not a bool ``(B, 27, 7)`` tensor.
        """
        logits = self.logits(z, tokens)
        if mask is None:
            mask = grammar_mask(tokens)
        elif mask.dtype != torch.bool or mask.shape != logits.shape:
            raise ValueError(f"mask must be a bool tensor of shape {tuple(logits.shape)}, "
                             f"got {mask.dtype} {tuple(mask.shape)}")
        # after an ungrammatical token the state machine can reach a dead end with no token allowed;
        # leave such rows unmasked so that they hold log-probabilities, not NaN
        mask = mask | ~mask.any(dim=-1, keepdim=True)
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
        cache = self.backbone.start(z)
        token = torch.full((batch_size,), PAD, dtype=torch.long, device=z.device)
        state = initial_state(batch_size, z.device)
        tokens = []
        for position in range(SEQ_LEN):
            logits = self.backbone.step(cache, position, token)  # (B, 7)
            logits = logits.masked_fill(~allowed_tokens(state), float("-inf"))
            if greedy:
                token = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            tokens.append(token)
            state = advance(state, token)
        return torch.stack(tokens, dim=1)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, hidden_channels={self.hidden_channels}, "
                f"num_layers={self.num_layers}, backbone={self.backbone_name!r})")
