r"""The token sequence of a cell, as emitted by NAO/SemiNAS decoders on NAS-Bench-101.

For each vertex ``j = 1 .. V-1`` in order: one token per earlier vertex ``i < j`` (edge
``i → j``: :data:`EDGE`, no edge: :data:`NO_EDGE`), then the op token of vertex ``j``
(:data:`OP_TOKENS`). Token :data:`PAD` (0) is the start and padding token. A cell of 7 vertices
takes :math:`\sum_{j=1}^{6} (j + 1) = 27` tokens over a vocabulary of :data:`VOCAB_SIZE` = 7; a
smaller cell ends with its output token and is padded with :data:`PAD` to :data:`SEQ_LEN`.

Two conventions number the ops (:data:`CONVENTIONS`); the edge, padding and output tokens are the
same in both:

=============  ===========  ===========  ==============  ==========
convention     conv3x3      conv1x1      maxpool3x3      output
=============  ===========  ===========  ==============  ==========
``"paper"``    3            4            5               6
``"seminas"``  4            3            5               6
=============  ===========  ===========  ==============  ==========

``"paper"`` (the default, :data:`OP_TOKENS`) is the paper's numbering and the one gnnas's
decoder emits; ``"seminas"`` (:data:`SEMINAS_OP_TOKENS`) is that of the original NAO/SemiNAS code
on NAS-Bench-101 (its ``convert_arch_to_seq``), so that sequences written by that code, or decoded
by its trained controllers, read back as the cells they meant::

    >>> spec.to_tokens(convention="seminas")                 # as SemiNAS writes the cell
    >>> ArchSpec.from_tokens(seminas_sequence, convention="seminas")
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gnnas.space.ops import CONV1X1, CONV3X3, INPUT, MAX_VERTICES, MAXPOOL3X3, OUTPUT

__all__ = [
    "PAD", "NO_EDGE", "EDGE", "OP_TOKENS", "TOKEN_OPS", "SEMINAS_OP_TOKENS", "CONVENTIONS", "VOCAB_SIZE",
    "SEQ_LEN", "encode_tokens", "decode_tokens", "slot_layout", "op_tokens",
]

PAD = 0
NO_EDGE = 1
EDGE = 2
#: Op token of each non-input op.
OP_TOKENS: dict[str, int] = {CONV3X3: 3, CONV1X1: 4, MAXPOOL3X3: 5, OUTPUT: 6}
#: Op name of each op token.
TOKEN_OPS: dict[int, str] = {token: op for op, token in OP_TOKENS.items()}
#: Op token of each non-input op in the original NAO/SemiNAS code (conv1x1 before conv3x3).
SEMINAS_OP_TOKENS: dict[str, int] = {CONV1X1: 3, CONV3X3: 4, MAXPOOL3X3: 5, OUTPUT: 6}
#: The op numberings, by name: the paper's (the default) and the original SemiNAS code's.
CONVENTIONS: dict[str, dict[str, int]] = {"paper": OP_TOKENS, "seminas": SEMINAS_OP_TOKENS}
VOCAB_SIZE = 7
#: Length of the padded sequence: ``sum(j + 1 for j in 1..6)``.
SEQ_LEN = sum(j + 1 for j in range(1, MAX_VERTICES))


def slot_layout(max_vertices: int = MAX_VERTICES) -> list[tuple[int, int]]:
    """Returns, for each position of the sequence, ``(vertex j, slot)``.

    ``slot < j`` is the edge slot from vertex ``slot`` to ``j``; ``slot == j`` is the op slot.

    Args:
        max_vertices (int, optional): number of vertices of the full layout. (default: :obj:`7`)

    Returns:
        list[tuple[int, int]]: ``max_vertices * (max_vertices + 1) / 2 - 1`` pairs (27 for 7).
    """
    return [(j, slot) for j in range(1, max_vertices) for slot in range(j + 1)]


def op_tokens(convention: str = "paper") -> dict[str, int]:
    """Returns the op token of each non-input op under a convention (see the module docstring).

    Args:
        convention (str, optional): ``"paper"`` or ``"seminas"``. (default: :obj:`"paper"`)

    Returns:
        dict[str, int]: op name → token.

    Raises:
        ValueError: if the convention is unknown.
    """
    table = CONVENTIONS.get(convention)
    if table is None:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}, got {convention!r}")
    return table


def encode_tokens(matrix: np.ndarray, ops: Sequence[str], convention: str = "paper") -> list[int]:
    """Encodes a cell as a padded list of :data:`SEQ_LEN` tokens.

    Args:
        matrix (numpy.ndarray): 0/1 upper-triangular adjacency matrix of shape ``(V, V)``.
        ops (Sequence[str]): the op of each vertex.
        convention (str, optional): the op numbering, ``"paper"`` or ``"seminas"``.
            (default: :obj:`"paper"`)

    Returns:
        list[int]: the tokens.

    Raises:
        ValueError: if the convention is unknown.
    """
    numbering = op_tokens(convention)
    tokens: list[int] = []
    for j in range(1, len(ops)):
        tokens.extend(EDGE if matrix[i, j] else NO_EDGE for i in range(j))
        tokens.append(numbering[ops[j]])
    return tokens + [PAD] * (SEQ_LEN - len(tokens))


def decode_tokens(tokens: Sequence[int], convention: str = "paper") -> tuple[np.ndarray, list[str]]:
    """Decodes a token sequence into ``(matrix, ops)``; the cell is not validated or pruned here.

    Args:
        tokens (Sequence[int]): the sequence, with or without trailing padding.
        convention (str, optional): the op numbering, ``"paper"`` or ``"seminas"``.
            (default: :obj:`"paper"`)

    Returns:
        tuple[numpy.ndarray, list[str]]: the ``uint8`` adjacency matrix and the ops.

    Raises:
        ValueError: if a token is of the wrong kind for its slot, if there is no output token
            within :data:`SEQ_LEN` tokens, if a non-padding token follows the output token, or if
            the convention is unknown.
    """
    token_ops = {token: op for op, token in op_tokens(convention).items()}
    tokens = [int(t) for t in tokens]
    if len(tokens) > SEQ_LEN:
        raise ValueError(f"a token sequence has at most {SEQ_LEN} tokens, got {len(tokens)}")
    edges: list[tuple[int, int]] = []
    ops = [INPUT]
    position = 0
    for j in range(1, MAX_VERTICES):
        for i in range(j):
            if position >= len(tokens):
                raise ValueError(f"the sequence ends at position {position} before an output token")
            token = tokens[position]
            if token not in (NO_EDGE, EDGE):
                raise ValueError(
                    f"position {position} is the edge slot {i}->{j}; expected 1 or 2, got {token}"
                )
            if token == EDGE:
                edges.append((i, j))
            position += 1
        if position >= len(tokens):
            raise ValueError(f"the sequence ends at position {position} before an output token")
        token = tokens[position]
        if token not in token_ops:
            raise ValueError(f"position {position} is the op slot of vertex {j}; expected 3..6, got {token}")
        ops.append(token_ops[token])
        position += 1
        if token == OP_TOKENS[OUTPUT]:  # 6 in both conventions
            if any(t != PAD for t in tokens[position:]):
                raise ValueError(
                    f"only padding ({PAD}) may follow the output token at position {position - 1}"
                )
            matrix = np.zeros((j + 1, j + 1), dtype=np.uint8)
            for i, k in edges:
                matrix[i, k] = 1
            return matrix, ops
    raise ValueError(f"no output token (6) in the sequence {tokens}")
