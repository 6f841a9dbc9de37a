r"""The official NAS-Bench-101 module hash.

The hash is a Weisfeiler–Lehman-style refinement with MD5 as the combining function:

1. each vertex starts from the MD5 of ``str((out_degree, in_degree, label))``, with labels
   ``input = -1``, ``output = -2`` and the interior ops numbered as in
   :data:`~gnnas.space.ops.INTERIOR_OPS`;
2. ``V`` times, a vertex's new hash is the MD5 of its in-neighbours' hashes (sorted, concatenated),
   ``"|"``, its out-neighbours' hashes (sorted, concatenated), ``"|"``, its own hash;
3. the cell's hash is the MD5 of ``str(sorted(vertex_hashes))``.

It is invariant under renumbering of the vertices, so isomorphic cells share one hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from gnnas.space.ops import HASH_LABEL

__all__ = ["module_hash"]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def module_hash(matrix: np.ndarray, ops: Sequence[str]) -> str:
    """Computes the official NAS-Bench-101 hash of a pruned cell.

    Args:
        matrix (numpy.ndarray): 0/1 adjacency matrix of shape ``(V, V)``.
        ops (Sequence[str]): the op of each vertex.

    Returns:
        str: 32 hexadecimal digits.

    Raises:
        KeyError: if an op name is unknown.
    """
    matrix = np.asarray(matrix)
    num_vertices = matrix.shape[0]
    out_degree = matrix.sum(axis=1).tolist()
    in_degree = matrix.sum(axis=0).tolist()
    labels = [HASH_LABEL[op] for op in ops]
    hashes = [_md5(str((out_degree[v], in_degree[v], labels[v]))) for v in range(num_vertices)]
    in_neighbours = [np.flatnonzero(matrix[:, v]).tolist() for v in range(num_vertices)]
    out_neighbours = [np.flatnonzero(matrix[v, :]).tolist() for v in range(num_vertices)]
    for _ in range(num_vertices):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in in_neighbours[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in out_neighbours[v]))
                + "|"
                + hashes[v]
            )
            for v in range(num_vertices)
        ]
    return _md5(str(sorted(hashes)))
