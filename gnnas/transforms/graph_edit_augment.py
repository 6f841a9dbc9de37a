r"""GraphEditAugment: a PyG transform that turns a cell into a positive by a few random edits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from gnnas.space.ops import INPUT, MAX_EDGES, MAX_VERTICES, OP_INDEX, OPS, OUTPUT
from gnnas.space.spec import ArchSpec
from gnnas.transforms.anchor import Anchor, is_full, to_spec, tokens_of
from gnnas.transforms.graph_edit import (
    check_int,
    draw_num_edits,
    edit_outcome_any,
    edit_weights,
    num_edits_cdf,
    python_random,
)

__all__ = ["GraphEditAugment"]

_EYE = np.eye(len(OPS), dtype=np.float32)
_INPUT, _OUTPUT = OP_INDEX[INPUT], OP_INDEX[OUTPUT]


def _fast_anchor(data: Data) -> Anchor | None:
    """The anchor of ``data`` if it is plainly a valid pruned cell, else None (then ArchSpec checks)."""
    x, edge_index = getattr(data, "x", None), getattr(data, "edge_index", None)
    if not (isinstance(x, torch.Tensor) and isinstance(edge_index, torch.Tensor)):
        return None
    x = x.detach().cpu().numpy()
    edge_index = edge_index.detach().cpu().numpy()
    if x.ndim != 2 or x.shape[1] != len(OPS) or not 2 <= x.shape[0] <= MAX_VERTICES \
            or edge_index.ndim != 2 or edge_index.shape[0] != 2 or edge_index.dtype.kind not in "iu":
        return None
    if not ((x == 0) | (x == 1)).all() or not (x.sum(axis=1) == 1).all():
        return None
    n = x.shape[0]
    ops = x.argmax(axis=1).tolist()
    if ops[0] != _INPUT or ops[-1] != _OUTPUT or _INPUT in ops[1:-1] or _OUTPUT in ops[1:-1]:
        return None
    rows = [0] * n
    for i, j in edge_index.T.tolist():
        if not 0 <= i < j < n:
            return None
        rows[i] |= 1 << j
    if sum(r.bit_count() for r in rows) > MAX_EDGES or not is_full(n, rows):
        return None
    return Anchor.from_bits(n, rows, ops)


class GraphEditAugment(BaseTransform):
    r"""Makes a positive of a NAS-Bench-101 cell by at most ``max_edits`` random graph edits, from
    "Pretraining Neural Architecture Search Controllers with Locality-based Self-Supervised
    Learning" (Choi, Choe, Lee).

    The number of edits :math:`k \in \{1, \dots, K\}` is drawn with probabilities proportional to
    ``num_edits_weights`` (uniform by default), then a combination of :math:`k` edits from
    ``weights`` and an outcome uniformly among its valid outcomes
    (:func:`~gnnas.transforms.edit_cell` documents the edits and the rules). The result is a
    valid cell that pruning leaves unchanged and that differs from the input (official hash);
    the input is never returned. Where the input has no valid outcome at :math:`k` edits (the
    chain ``input → v → output`` has none at 3), the nearest other number of edits is used, and
    ``num_edits`` records the number applied.

    The returned graph carries the number of edits and the exact graph edit distance to the
    input, which can be smaller than the number of edits:

    .. math::
        \mathrm{ged} = \min_{(e_1, \dots, e_m) \in \mathcal{P}(G, G')} \sum_{i=1}^{m} c(e_i)
        \le \mathrm{num\_edits},

    with unit costs :math:`c` for vertex and edge insertions, deletions and op substitutions
    (:func:`gnnas.graph_edit_distance`).

    Each transform has its own random generator: the same seed gives the same positives for the
    same sequence of inputs. In a DataLoader with several workers, every worker gets a copy of the
    generator and so the same stream; :class:`~gnnas.datasets.LocalityDataset` shards the
    randomness properly.

    Args:
        max_edits (int, optional): the largest number of edits. (default: :obj:`3`)
        weights (Mapping[str, float], optional): relative weights of the edit combinations, see
            :func:`~gnnas.transforms.edit_weights`. (default: :obj:`None`, the paper's mix)
        num_edits_weights (Sequence[float], optional): relative probabilities of ``1 ..
            max_edits`` edits. (default: :obj:`None`, uniform)
        compute_ged (bool, optional): add ``ged``, the exact graph edit distance to the input.
            (default: :obj:`True`)
        seed (int, optional): seed of the transform's generator. (default: :obj:`None`)
        generator (numpy.random.Generator, optional): the generator to use instead of a seed;
            it is shared, not copied. (default: :obj:`None`)
        max_tries (int, optional): random draws per edit combination before exhaustive search.
            (default: :obj:`16`)

    Raises:
        ValueError: if ``max_edits < 1``, the weights are invalid, or both ``seed`` and
            ``generator`` are given.

    Shapes:
        - **input:** node features ``x`` :math:`(V, 5)`, edge indices :math:`(2, |E|)`
          (as :meth:`ArchSpec.to_data`)
        - **output:** ``x`` :math:`(V', 5)`, ``edge_index`` :math:`(2, |E'|)`, ``num_edits``
          :math:`(1,)`, ``ged`` :math:`(1,)`, and ``tokens`` :math:`(1, 27)` if the input has
          ``tokens``
    """

    def __init__(
        self,
        max_edits: int = 3,
        weights: Mapping[str, float] | None = None,
        num_edits_weights: Sequence[float] | None = None,
        compute_ged: bool = True,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        max_tries: int = 16,
    ) -> None:
        self.max_edits = check_int(max_edits, "max_edits", 1)
        grouped = edit_weights(weights, self.max_edits)
        self._weights = {k: group for k, group in grouped.items() if k <= self.max_edits}
        self.weights = None if weights is None else dict(weights)
        self.num_edits_weights = None if num_edits_weights is None else list(num_edits_weights)
        self._cdf = num_edits_cdf(num_edits_weights, self.max_edits)
        self.compute_ged = bool(compute_ged)
        self.max_tries = check_int(max_tries, "max_tries", 1)
        if seed is not None and generator is not None:
            raise ValueError("pass either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise ValueError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        self.seed = None if seed is None else check_int(seed, "seed", 0)
        self.generator = generator if generator is not None else np.random.default_rng(self.seed)

    def forward(self, data: Data) -> Data:
        """Returns a new graph for a positive of ``data``; ``data`` is not modified.

        Args:
            data (torch_geometric.data.Data): a cell, as made by :meth:`ArchSpec.to_data`.

        Returns:
            torch_geometric.data.Data: the positive with ``x``, ``edge_index``, ``num_nodes``,
            ``num_edits``, ``ged`` (if ``compute_ged``) and ``tokens`` (if the input has them).

        Raises:
            ValueError: if ``data`` is not a valid cell that pruning leaves unchanged.
            NoValidEditError: if the cell has no positive at all (the cell ``input → output``).
        """
        if not isinstance(data, Data):
            raise ValueError(
                f"GraphEditAugment expects a torch_geometric.data.Data cell, got {type(data).__name__}"
            )
        anchor = _fast_anchor(data)
        if anchor is None:  # not a plain valid cell: let ArchSpec say what is wrong
            spec = ArchSpec.from_data(data)
            if not spec.was_pruned:
                raise AssertionError(f"the fast check rejected the valid cell {spec!r}")
            raise ValueError("data is not a pruned cell: some vertices are not on an input → output path; "
                             "build it with ArchSpec(...).to_data()")
        rnd = python_random(self.generator)
        k = draw_num_edits(self._cdf, rnd)
        (n, rows, ops, _), _, k = edit_outcome_any(anchor, k, self._weights, rnd, self.max_tries)
        edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rows[i] >> j & 1]
        edge_index = torch.from_numpy(np.array(edges, dtype=np.int64).reshape(-1, 2).T.copy())
        out = Data(x=torch.from_numpy(_EYE[ops]), edge_index=edge_index, num_nodes=n)
        out.num_edits = torch.tensor([k])
        if self.compute_ged:
            from gnnas import graph_edit_distance

            out.ged = torch.tensor([int(graph_edit_distance(anchor.spec, to_spec(n, rows, ops)))])
        if "tokens" in data:
            out.tokens = torch.tensor([tokens_of(n, rows, ops)])
        return out

    def __repr__(self) -> str:
        args = [f"max_edits={self.max_edits}"]
        if self.weights is not None:
            args.append(f"weights={self.weights}")
        if self.num_edits_weights is not None:
            args.append(f"num_edits_weights={self.num_edits_weights}")
        if not self.compute_ged:
            args.append("compute_ged=False")
        if self.seed is not None:
            args.append(f"seed={self.seed}")
        return f"{self.__class__.__name__}({', '.join(args)})"
