"""Operation names of the NAS-Bench-101 search space and their integer codes."""

from __future__ import annotations

#: The label of the input vertex (always vertex 0).
INPUT = "input"
#: The label of the output vertex (always the last vertex).
OUTPUT = "output"
#: A 3 x 3 convolution, batch norm and ReLU.
CONV3X3 = "conv3x3-bn-relu"
#: A 1 x 1 convolution, batch norm and ReLU.
CONV1X1 = "conv1x1-bn-relu"
#: A 3 x 3 max pooling.
MAXPOOL3X3 = "maxpool3x3"

#: The operations an interior vertex can take, in the order of the official hash labels.
INTERIOR_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)

#: Every vertex label; the column order of the one-hot node features ``x``.
OPS: tuple[str, ...] = (INPUT, CONV3X3, CONV1X1, MAXPOOL3X3, OUTPUT)

#: Index of each op in :data:`OPS`.
OP_INDEX: dict[str, int] = {op: i for i, op in enumerate(OPS)}

#: Label of each op in the official NAS-Bench-101 module hash.
HASH_LABEL: dict[str, int] = {INPUT: -1, OUTPUT: -2, CONV3X3: 0, CONV1X1: 1, MAXPOOL3X3: 2}

#: Largest number of vertices of a cell (input and output included).
MAX_VERTICES = 7

#: Largest number of edges of a cell.
MAX_EDGES = 9
