"""Random cells, edits and the networkx reference for the graph-edit-distance tests."""

from __future__ import annotations

import networkx as nx
import numpy as np

from gnnas import ArchSpec
from gnnas.space import INPUT, INTERIOR_OPS, OUTPUT

IO = {INPUT, OUTPUT}


def random_cell(rng: np.random.Generator, num_vertices: int | None = None) -> ArchSpec:
    """A valid cell with ``num_vertices`` vertices after pruning (random in 2..7 if :obj:`None`).

    Samples a random upper-triangular matrix (edge probability drawn in [0.1, 0.5]), gives every
    interior vertex an in-edge from an earlier vertex and an out-edge to a later one (so nothing is
    pruned), and keeps the cell when it has at most 9 edges.
    """
    v = int(num_vertices or rng.integers(2, 8))
    while True:
        matrix = np.triu(rng.random((v, v)) < rng.uniform(0.1, 0.5), 1).astype(np.uint8)
        matrix[0, v - 1] |= v == 2
        for j in range(1, v - 1):
            if not matrix[:j, j].any():
                matrix[rng.integers(0, j), j] = 1
            if not matrix[j, j + 1:].any():
                matrix[j, rng.integers(j + 1, v)] = 1
        if matrix.sum() > 9:
            continue
        ops = [INPUT] + [INTERIOR_OPS[k] for k in rng.integers(0, 3, v - 2)] + [OUTPUT]
        spec = ArchSpec(matrix, ops)
        assert spec.num_vertices == v
        return spec


def renumbered(rng: np.random.Generator, spec: ArchSpec) -> ArchSpec:
    """An isomorphic copy of ``spec`` under a random topological renumbering of its vertices."""
    m = spec.matrix
    v = spec.num_vertices
    placed: list[int] = [0]
    while len(placed) < v - 1:
        free = [j for j in range(1, v - 1)
                if j not in placed and all(i in placed for i in np.flatnonzero(m[:, j]))]
        placed.append(int(rng.choice(free)))
    order = np.array(placed + [v - 1])
    return ArchSpec(m[np.ix_(order, order)], [spec.ops[i] for i in order])


def edited(rng: np.random.Generator, spec: ArchSpec, num_edits: int) -> ArchSpec:
    """A valid cell ``num_edits`` op changes / edge flips away (before pruning) from ``spec``.

    ``spec`` needs at least 3 vertices (a 2-vertex cell has no valid single edit).
    """
    assert spec.num_vertices >= 3
    while True:
        m = spec.matrix.copy()
        ops = list(spec.ops)
        v = spec.num_vertices
        for _ in range(num_edits):
            if v > 2 and rng.random() < 0.4:
                k = int(rng.integers(1, v - 1))
                ops[k] = str(rng.choice([op for op in INTERIOR_OPS if op != ops[k]]))
            else:
                i, j = sorted(rng.choice(v, 2, replace=False))
                m[i, j] ^= 1
        try:
            return ArchSpec(m, ops)
        except ValueError:
            continue


def to_networkx(spec: ArchSpec) -> nx.DiGraph:
    graph = nx.DiGraph()
    for i, op in enumerate(spec.ops):
        graph.add_node(i, op=op)
    graph.add_edges_from((int(i), int(j)) for i, j in zip(*np.nonzero(spec.matrix), strict=True))
    return graph


def networkx_ged(a: ArchSpec, b: ArchSpec, pin_io: bool = False) -> int:
    """The reference: networkx's exact GED with unit costs (pinned: infinite cost to move I/O)."""
    if not pin_io:
        value = nx.graph_edit_distance(to_networkx(a), to_networkx(b),
                                       node_match=lambda u, v: u["op"] == v["op"])
    else:
        inf = float("inf")

        def subst(u: dict, v: dict) -> float:
            if u["op"] == v["op"]:
                return 0
            return inf if u["op"] in IO or v["op"] in IO else 1

        def indel(u: dict) -> float:
            return inf if u["op"] in IO else 1

        value = nx.graph_edit_distance(to_networkx(a), to_networkx(b), node_subst_cost=subst,
                                       node_del_cost=indel, node_ins_cost=indel)
    assert value is not None and value == int(value)
    return int(value)
