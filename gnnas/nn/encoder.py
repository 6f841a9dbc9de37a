r"""A GIN encoder that maps a cell graph to one embedding per cell."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GINConv, global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.nn.norm import BatchNorm, LayerNorm

from gnnas.nn.utils import _check_dropout, _check_positive_ints
from gnnas.space.ops import MAX_VERTICES, OPS

__all__ = ["GINEncoder"]

_POOLING = {"mean": global_mean_pool, "sum": global_add_pool, "add": global_add_pool, "max": global_max_pool}
_DIRECTIONS = ("both", "forward", "reverse", "undirected")
_NORMS = (None, "batch", "layer")


def _mlp(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_channels, out_channels), nn.ReLU(),
                         nn.Linear(out_channels, out_channels))


class GINEncoder(nn.Module):
    r"""A Graph Isomorphism Network (GIN) encoder for cells, from `"How Powerful are Graph Neural
    Networks?" <https://arxiv.org/abs/1810.00826>`_, with message passing along and against the
    edges of the DAG.

    Each layer runs a :class:`~torch_geometric.nn.conv.GINConv` along the edges (a vertex hears its
    predecessors) and one against them (it hears its successors), and concatenates the two, so that
    after :math:`L` layers a vertex knows the cell :math:`L` hops up- and downstream:

    .. math::
        \mathbf{h}_v^{(l)} = \mathrm{ReLU}\Big(\mathrm{norm}\big(\big[
        \mathrm{MLP}_{\rightarrow}^{(l)}\big((1 + \epsilon)\mathbf{h}_v^{(l-1)}
        + \textstyle\sum_{u \to v} \mathbf{h}_u^{(l-1)}\big)
        \,\big\|\,
        \mathrm{MLP}_{\leftarrow}^{(l)}\big((1 + \epsilon)\mathbf{h}_v^{(l-1)}
        + \textstyle\sum_{v \to w} \mathbf{h}_w^{(l-1)}\big)\big]\big)\Big), \qquad
        \mathbf{z} = \mathbf{W}\,\mathrm{pool}_v\,\mathbf{h}_v^{(L)}.

    With ``direction='forward'`` or ``'reverse'`` only one of the two runs; with ``'undirected'``
    one :class:`~torch_geometric.nn.conv.GINConv` runs over the edges made symmetric (the DAG's
    direction is lost). ``'both'`` reconstructs best (see the README's "Networks" section).

    When ``positional=True`` the input features are the op one-hot ``x`` concatenated with a one-hot
    of each vertex's index within its cell (7 more columns). The token sequence
    (:mod:`gnnas.space.tokens`) follows the vertex order, which a permutation-invariant GIN cannot
    see: two orderings of one cell give one embedding but two sequences. With the index the decoder
    can rebuild the exact sequence, as NAO's sequence encoder can; without it the embedding is
    invariant under isomorphism and reconstruction is exact only up to isomorphism. Vertices of a
    cell must be stored consecutively, as in a PyG :class:`~torch_geometric.data.Batch`.

    Args:
        in_channels (int, optional): size of the node features ``x``. (default: :obj:`5`, the op
            one-hot over :data:`~gnnas.space.ops.OPS`)
        hidden_channels (int, optional): width of each GIN layer's output; with
            ``direction='both'`` each direction takes half. (default: :obj:`64`)
        out_channels (int, optional): size of the embedding. (default: :obj:`32`)
        num_layers (int, optional): number of GIN layers. (default: :obj:`3`)
        pooling (str, optional): ``'mean'``, ``'sum'`` (or ``'add'``) or ``'max'`` over the vertices
            of each cell, or ``'flatten'``: the vertex embeddings in vertex order, zero-padded to 7
            vertices and concatenated (depends on the vertex numbering; it reconstructs much better,
            see the README's "Networks" section). (default: :obj:`'flatten'`)
        norm (str, optional): ``None``, ``'batch'`` or ``'layer'`` normalisation after each layer.
            (default: :obj:`None`)
        dropout (float, optional): dropout after each layer. (default: :obj:`0.`)
        direction (str, optional): ``'both'``, ``'forward'``, ``'reverse'`` or ``'undirected'``.
            (default: :obj:`'both'`)
        positional (bool, optional): append the one-hot vertex index to ``x``.
            (default: :obj:`True`)
        train_eps (bool, optional): learn :math:`\epsilon` of each GINConv. (default: :obj:`False`)

    Raises:
        ValueError: if a size is not a positive integer, ``dropout`` is outside ``[0, 1)``,
            ``pooling``, ``norm`` or ``direction`` is unknown, or ``direction='both'`` is given an
            odd ``hidden_channels``.

    Shapes:
        - **x** :math:`(|V|, \text{in\_channels})`, all cells' vertices
        - **edge_index** :math:`(2, |E|)`
        - **batch** :math:`(|V|)`, optional (one cell when omitted)
        - **output** :math:`(B, \text{out\_channels})`
    """

    def __init__(self, in_channels: int = len(OPS), hidden_channels: int = 64, out_channels: int = 32,
                 num_layers: int = 3, pooling: str = "flatten", norm: str | None = None, dropout: float = 0.0,
                 direction: str = "both", positional: bool = True, train_eps: bool = False) -> None:
        super().__init__()
        _check_positive_ints(in_channels=in_channels, hidden_channels=hidden_channels,
                             out_channels=out_channels, num_layers=num_layers)
        if pooling not in _POOLING and pooling != "flatten":
            raise ValueError(f"pooling must be one of {sorted([*_POOLING, 'flatten'])}, got {pooling!r}")
        if norm not in _NORMS:
            raise ValueError(f"norm must be one of {list(_NORMS)}, got {norm!r}")
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {list(_DIRECTIONS)}, got {direction!r}")
        if direction == "both" and hidden_channels % 2:
            raise ValueError("direction='both' splits hidden_channels in two halves; "
                             f"got odd {hidden_channels}")
        _check_dropout(dropout)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.pooling = pooling
        self.norm = norm
        self.dropout = dropout
        self.direction = direction
        self.positional = positional
        self.train_eps = train_eps

        width = hidden_channels // 2 if direction == "both" else hidden_channels
        channels = in_channels + (MAX_VERTICES if positional else 0)
        self.forward_convs = nn.ModuleList()
        self.reverse_convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(num_layers):
            if direction in ("both", "forward", "undirected"):
                self.forward_convs.append(GINConv(_mlp(channels, width), train_eps=train_eps))
            if direction in ("both", "reverse"):
                self.reverse_convs.append(GINConv(_mlp(channels, width), train_eps=train_eps))
            if norm == "batch":
                self.norms.append(BatchNorm(hidden_channels))
            elif norm == "layer":
                self.norms.append(LayerNorm(hidden_channels, mode="node"))
            else:
                self.norms.append(nn.Identity())
            channels = hidden_channels
        readout = hidden_channels * MAX_VERTICES if pooling == "flatten" else hidden_channels
        self.lin = nn.Linear(readout, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Resets all learnable parameters."""
        for module in [*self.forward_convs, *self.reverse_convs, *self.norms, self.lin]:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments.

        Returns:
            dict: the arguments, so that ``GINEncoder(**config)`` rebuilds the module.
        """
        return {"in_channels": self.in_channels, "hidden_channels": self.hidden_channels,
                "out_channels": self.out_channels, "num_layers": self.num_layers, "pooling": self.pooling,
                "norm": self.norm, "dropout": self.dropout, "direction": self.direction,
                "positional": self.positional, "train_eps": self.train_eps}

    def _vertex_index(self, batch: Tensor, num_nodes: int) -> Tensor:
        counts = torch.bincount(batch)
        start = torch.cumsum(counts, 0) - counts  # first vertex of each cell
        index = torch.arange(num_nodes, device=batch.device) - start[batch]
        if num_nodes and (int(index.min()) < 0 or int(index.max()) >= MAX_VERTICES):
            raise ValueError("positional=True and pooling='flatten' need cells of at most "
                             f"{MAX_VERTICES} vertices stored consecutively (a sorted `batch` vector)")
        return index

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None) -> Tensor:
        """Embeds a batch of cells.

        Args:
            x (torch.Tensor): node features, ``(|V|, in_channels)``.
            edge_index (torch.Tensor): edges ``(2, |E|)``, from source to target.
            batch (torch.Tensor, optional): the cell of each vertex, ``(|V|,)``, sorted.
                (default: :obj:`None`, all vertices form one cell)

        Returns:
            torch.Tensor: ``(B, out_channels)``.

        Raises:
            ValueError: if the shapes do not fit, or (with ``positional=True``) a cell has more than
                7 vertices or its vertices are not consecutive.
        """
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != self.in_channels:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (|V|, {self.in_channels}), got {shape}")
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
            shape = tuple(edge_index.shape) if isinstance(edge_index, Tensor) else type(edge_index).__name__
            raise ValueError(f"edge_index must have shape (2, |E|), got {shape}")
        num_nodes = x.shape[0]
        if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
            raise ValueError(f"edge_index refers to vertices outside 0..{num_nodes - 1}")
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=x.device)
        elif batch.dim() != 1 or batch.shape[0] != num_nodes:
            raise ValueError(f"batch must have shape ({num_nodes},), got {tuple(batch.shape)}")
        h = x.float()
        index = None
        if self.positional or self.pooling == "flatten":
            index = self._vertex_index(batch, num_nodes)
        if self.positional:
            h = torch.cat([h, nn.functional.one_hot(index, MAX_VERTICES).to(h.dtype)], dim=1)
        forward_index = edge_index
        if self.direction == "undirected":
            forward_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        reverse_index = edge_index.flip(0)
        for layer in range(self.num_layers):
            parts = []
            if self.forward_convs:
                parts.append(self.forward_convs[layer](h, forward_index))
            if self.reverse_convs:
                parts.append(self.reverse_convs[layer](h, reverse_index))
            h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            h = torch.relu(self.norms[layer](h))
            h = nn.functional.dropout(h, self.dropout, training=self.training)
        if self.pooling == "flatten":
            num_graphs = int(batch.max()) + 1 if num_nodes else 0
            slots = h.new_zeros(num_graphs * MAX_VERTICES, h.shape[1])
            slots[batch * MAX_VERTICES + index] = h
            return self.lin(slots.view(num_graphs, -1))  # (B, out_channels)
        return self.lin(_POOLING[self.pooling](h, batch))  # (B, out_channels)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"hidden_channels={self.hidden_channels}, num_layers={self.num_layers}, "
                f"direction={self.direction!r}, pooling={self.pooling!r})")
