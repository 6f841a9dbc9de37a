r"""The grammar of the 27-token cell sequence, as a state machine vectorised over a batch.

The decoder emits a cell one token at a time (see :mod:`gnnas.space.tokens`): for each vertex
``j = 1 .. 6`` one edge token per earlier vertex ``i < j`` (:data:`~gnnas.space.tokens.EDGE` or
:data:`~gnnas.space.tokens.NO_EDGE`), then the op token of ``j``; the output op token ends the cell
and only padding follows. :func:`allowed_tokens` says, for every sequence of a batch, which tokens
keep the sequence *completable*, that is, which tokens can still be followed by a valid cell.

A sequence is **grammatical** when every token was allowed when it was emitted. Grammatical
sequences are exactly the sequences for which

- :meth:`ArchSpec.from_tokens <gnnas.space.spec.ArchSpec.from_tokens>` succeeds, and
- the raw (unpruned) cell has at most :data:`~gnnas.space.ops.MAX_EDGES` edges.

This holds the decoder to these guarantees: the output vertex is reachable from the input through
the emitted edges; the cell has at most 7 vertices and at most 9 edges before pruning (so also
after); interior vertices carry interior ops; vertex 6, if reached, is the output; padding follows
the output. The cell may contain vertices that are not on an input→output path (an unreachable
vertex, or one with no path to the output): :class:`~gnnas.space.spec.ArchSpec` prunes them, so
the decoded :class:`~gnnas.space.spec.ArchSpec` can be smaller than the emitted sequence. Every
sequence made by :meth:`ArchSpec.to_tokens <gnnas.space.spec.ArchSpec.to_tokens>` is grammatical.
Raw cells with more than 9 edges that pruning would bring down to 9 are the only valid token
sequences the grammar refuses.

The state after a prefix is :class:`GrammarState`: the number of edges so far, which vertices are
reachable from the input, whether the vertex being written already has an edge from a reachable
vertex, and whether the output was emitted. With :math:`e` edges so far, :math:`r` for the vertex
``j`` being written, and :math:`R_k` for the reachability of vertex ``k``, the rules at an edge
slot ``i → j`` are

.. math::
    \mathrm{EDGE} &\iff e < 9 \wedge \big(r \vee R_i \vee (e + 1 < 9 \wedge (j < 6 \vee
    \textstyle\bigvee_{i < k < j} R_k))\big) \\
    \mathrm{NO\_EDGE} &\iff r \vee \big(e < 9 \wedge (j < 6 \vee
    \textstyle\bigvee_{i < k < j} R_k)\big)

and at the op slot of ``j``: the output op iff :math:`r`; an interior op iff
:math:`j < 6 \wedge e < 9`. (If the current vertex cannot become the output, a later vertex can,
through an edge from the input, as long as an edge is left.) By induction every grammatical prefix
has at least one allowed token, so masked decoding never gets stuck.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from gnnas.space.ops import MAX_EDGES, MAX_VERTICES, OUTPUT
from gnnas.space.tokens import EDGE, NO_EDGE, OP_TOKENS, PAD, SEQ_LEN, VOCAB_SIZE, slot_layout

__all__ = ["GrammarState", "initial_state", "allowed_tokens", "advance", "grammar_mask",
           "is_grammatical", "check_tokens"]

_LAYOUT = slot_layout()
_OUTPUT_TOKEN = OP_TOKENS[OUTPUT]
_INTERIOR_TOKENS = [token for token in OP_TOKENS.values() if token != _OUTPUT_TOKEN]
_LAST = MAX_VERTICES - 1


class GrammarState(NamedTuple):
    """The state of the grammar after a prefix, for a batch of ``B`` sequences.

    Args:
        position (int): the position of the next token, ``0 .. 27``.
        num_edges (torch.Tensor): long ``(B,)``, edges emitted so far.
        reached (torch.Tensor): bool ``(B,)``, whether the vertex being written has an edge from a
            vertex reachable from the input.
        reachable (torch.Tensor): bool ``(B, 7)``, whether each vertex is reachable from the input.
        finished (torch.Tensor): bool ``(B,)``, whether the output op was emitted.
    """

    position: int
    num_edges: Tensor
    reached: Tensor
    reachable: Tensor
    finished: Tensor


def initial_state(batch_size: int, device: torch.device | str | None = None) -> GrammarState:
    """Returns the state before the first token.

    Args:
        batch_size (int): the number of sequences ``B``.
        device (torch.device, optional): where the state tensors live. (default: :obj:`None`, CPU)

    Returns:
        GrammarState: position 0, no edges, only the input reachable, nothing finished.
    """
    reachable = torch.zeros(batch_size, MAX_VERTICES, dtype=torch.bool, device=device)
    reachable[:, 0] = True
    return GrammarState(
        position=0,
        num_edges=torch.zeros(batch_size, dtype=torch.long, device=device),
        reached=torch.zeros(batch_size, dtype=torch.bool, device=device),
        reachable=reachable,
        finished=torch.zeros(batch_size, dtype=torch.bool, device=device),
    )


def allowed_tokens(state: GrammarState) -> Tensor:
    """Returns which tokens may come next.

    Args:
        state (GrammarState): the state after a grammatical prefix.

    Returns:
        torch.Tensor: bool ``(B, 7)``; at least one ``True`` per row.

    Raises:
        ValueError: if the sequence is already complete (position 27).
    """
    if not 0 <= state.position < SEQ_LEN:
        raise ValueError(f"no token follows position {state.position}; a sequence has {SEQ_LEN} tokens")
    j, i = _LAYOUT[state.position]
    e, r, reach, done = state.num_edges, state.reached, state.reachable, state.finished
    mask = torch.zeros(e.shape[0], VOCAB_SIZE, dtype=torch.bool, device=e.device)
    live = ~done
    mask[:, PAD] = done
    if i < j:  # edge slot i -> j
        if j < _LAST:
            later = torch.ones_like(r)
        elif i + 1 < j:
            later = reach[:, i + 1:j].any(dim=1)
        else:
            later = torch.zeros_like(r)
        # after this slot, could a reachable in-edge still come here, or a later vertex be the output?
        room_after_edge = (e + 1 < MAX_EDGES) & later
        mask[:, EDGE] = live & (e < MAX_EDGES) & (r | reach[:, i] | room_after_edge)
        mask[:, NO_EDGE] = live & (r | ((e < MAX_EDGES) & later))
    else:  # op slot of vertex j
        mask[:, _OUTPUT_TOKEN] = live & r
        if j < _LAST:
            interior = live & (e < MAX_EDGES)
            for token in _INTERIOR_TOKENS:
                mask[:, token] = interior
    return mask


def advance(state: GrammarState, tokens: Tensor) -> GrammarState:
    """Returns the state after emitting ``tokens`` at ``state.position``.

    Tokens are not checked here (see :func:`allowed_tokens`); an edge token is counted and an output
    token ends the sequence wherever they stand.

    Args:
        state (GrammarState): the current state.
        tokens (torch.Tensor): long ``(B,)``, the token of each sequence.

    Returns:
        GrammarState: the new state (``state`` is left as it is).
    """
    j, i = _LAYOUT[state.position]
    live = ~state.finished
    if i < j:
        is_edge = live & (tokens == EDGE)
        return state._replace(
            position=state.position + 1,
            num_edges=state.num_edges + is_edge.long(),
            reached=state.reached | (is_edge & state.reachable[:, i]),
        )
    reachable = state.reachable.clone()
    reachable[:, j] = state.reached & live
    return state._replace(
        position=state.position + 1,
        reached=torch.zeros_like(state.reached),
        reachable=reachable,
        finished=state.finished | (live & (tokens == _OUTPUT_TOKEN)),
    )


def check_tokens(tokens: Tensor) -> None:
    """Checks that ``tokens`` can be token sequences.

    Args:
        tokens (torch.Tensor): the tensor to check.

    Raises:
        ValueError: unless ``tokens`` is an integer ``(B, 27)`` tensor over ``0 .. 6``.
    """
    if not isinstance(tokens, Tensor):
        raise ValueError(f"tokens must be a torch.Tensor, got {type(tokens).__name__}")
    if tokens.dim() != 2 or tokens.shape[1] != SEQ_LEN:
        raise ValueError(f"tokens must have shape (B, {SEQ_LEN}), got {tuple(tokens.shape)}")
    if tokens.dtype.is_floating_point or tokens.dtype.is_complex or tokens.dtype == torch.bool:
        raise ValueError(f"tokens must be an integer tensor, got dtype {tokens.dtype}")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= VOCAB_SIZE):
        raise ValueError(f"tokens must lie in 0..{VOCAB_SIZE - 1}, got values "
                         f"{int(tokens.min())}..{int(tokens.max())}")


def grammar_mask(tokens: Tensor) -> Tensor:
    """Runs the grammar along given sequences (teacher forcing) and returns the allowed tokens.

    Args:
        tokens (torch.Tensor): long ``(B, 27)``.

    Returns:
        torch.Tensor: bool ``(B, 27, 7)``, the tokens allowed at each position given the prefix.
        After a token that was not allowed, the rows are those of the state machine run on, and no
        longer mean "completable".

    Raises:
        ValueError: if ``tokens`` is not an integer ``(B, 27)`` tensor over ``0 .. 6``.
    """
    check_tokens(tokens)
    tokens = tokens.long()
    state = initial_state(tokens.shape[0], tokens.device)
    masks = []
    for position in range(SEQ_LEN):
        masks.append(allowed_tokens(state))
        state = advance(state, tokens[:, position])
    return torch.stack(masks, dim=1)


def is_grammatical(tokens: Tensor) -> Tensor:
    """Returns whether each sequence is grammatical (every token allowed given its prefix).

    Args:
        tokens (torch.Tensor): long ``(B, 27)``.

    Returns:
        torch.Tensor: bool ``(B,)``.
    """
    mask = grammar_mask(tokens)
    return mask.gather(2, tokens.long().unsqueeze(-1)).squeeze(-1).all(dim=1)
