r"""How well a controller reconstructs cells from their embeddings (the paper's Fig. 3c question).

Example::

    >>> from gnnas.nn import NAOController
    >>> from gnnas.pretrain import evaluate_reconstruction
    >>> from gnnas.space import ArchSpec
    >>> cell = ArchSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> report = evaluate_reconstruction(NAOController(), [cell])
    >>> sorted(report)
    ['cell_acc', 'cells', 'decode_acc', 'token_acc']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from gnnas.space import ArchSpec

__all__ = ["evaluate_reconstruction"]


@torch.no_grad()
def evaluate_reconstruction(
    controller: Any, cells: Sequence[ArchSpec], batch_size: int = 512
) -> dict[str, Any]:
    r"""Measures how well ``controller`` reconstructs ``cells`` from their embeddings.

    Three figures, from the strictest to the loosest view of the decoder:

    * ``decode_acc``: the share of cells that greedy masked decoding of the embedding
      (:meth:`~gnnas.nn.NAOController.decode`) gives back as the same cell (same module hash);
    * ``cell_acc``: the share whose 27 teacher-forced argmax tokens are all right;
    * ``token_acc``: the share of the 27 teacher-forced tokens whose argmax is right.

    The controller is put in eval mode for the measurement and its mode restored afterwards.

    Args:
        controller (NAOController): the controller to measure.
        cells (Sequence[ArchSpec]): the cells, at least one.
        batch_size (int, optional): cells per forward pass. (default: :obj:`512`)

    Returns:
        dict: ``cells`` (their number), ``token_acc``, ``cell_acc`` and ``decode_acc``.

    Raises:
        ValueError: if ``cells`` is empty or ``batch_size`` is not a positive integer.
    """
    from gnnas.nn import cells_to_batch
    from gnnas.pretrain.trainer import reconstruction_metrics

    cells = list(cells)
    if not cells:
        raise ValueError("cells must hold at least one ArchSpec")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    was_training = controller.training
    controller.eval()
    device = next(controller.parameters()).device
    tokens_right = cells_right = decoded_right = 0
    try:
        for start in range(0, len(cells), batch_size):
            chunk = cells[start:start + batch_size]
            batch = cells_to_batch(chunk).to(device)
            z = controller.encode(batch)  # (B, D)
            _, tokens, whole = reconstruction_metrics(controller.decoder(z, batch.tokens), batch.tokens)
            tokens_right += int(tokens)
            cells_right += int(whole)
            decoded_right += sum(int(a == b) for a, b in zip(controller.decode(z), chunk, strict=True))
    finally:
        controller.train(was_training)
    count = len(cells)
    return {
        "cells": count,
        "token_acc": tokens_right / (27 * count),
        "cell_acc": cells_right / count,
        "decode_acc": decoded_right / count,
    }
