import networkx as nx
import pytest

from gnnas import ArchSpec, graph_edit_distance
from tests.cli.conftest import run_cli

TEST_VECTOR = (
    "0100110001000000010010000010000001000000010000000",
    "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output",
)


@pytest.mark.parametrize("ops", [TEST_VECTOR[1], "input,conv3x3,maxpool,conv3x3,conv3x3,conv1x1,output"])
def test_hash_of_the_test_vector(capsys, ops):
    code, out, _ = run_cli(capsys, "hash", TEST_VECTOR[0], ops)
    assert code == 0 and out.strip() == "00005c142e6f48ac74fdcf73e3439874"


def test_hash_prunes_and_says_so(capsys):
    # vertex 1 reaches nothing: pruned away, leaving input -> output
    code, out, _ = run_cli(capsys, "hash", "011000000", "input,conv3x3,output", "--verbose")
    assert code == 0
    spec = ArchSpec([[0, 1], [0, 0]], ["input", "output"])
    assert out.splitlines() == [spec.hash, "pruned cell: 2 vertices, 1 edges: 0100:input,output"]


def _networkx_ged(a: ArchSpec, b: ArchSpec) -> float:
    graphs = []
    for spec in (a, b):
        g = nx.DiGraph()
        g.add_nodes_from((i, {"op": op}) for i, op in enumerate(spec.ops))
        g.add_edges_from(zip(*spec.matrix.nonzero(), strict=True))
        graphs.append(g)
    return nx.graph_edit_distance(*graphs, node_match=lambda u, v: u["op"] == v["op"])


def test_ged_matches_the_library_and_networkx(capsys):
    cells = [
        "010001000:input,conv3x3,output",
        "011001000:input,maxpool,output",
        "0100:input,output",
        "0110000100010000:input,conv1x1,conv3x3,output",
    ]
    specs = [
        ArchSpec.from_strings(
            *c.replace("conv3x3,", "conv3x3-bn-relu,")
            .replace("conv1x1,", "conv1x1-bn-relu,")
            .replace("maxpool,", "maxpool3x3,")
            .split(":")
        )
        for c in cells
    ]
    for a, sa in zip(cells, specs, strict=True):
        for b, sb in zip(cells, specs, strict=True):
            code, out, _ = run_cli(capsys, "ged", a, b)
            assert code == 0
            assert int(out) == graph_edit_distance(sa, sb) == _networkx_ged(sa, sb)


def test_ged_takes_module_hashes(capsys, space):
    a, b = space[0], space[1]
    code, out, _ = run_cli(capsys, "ged", a.hash, b.hash)
    assert code == 0 and int(out) == graph_edit_distance(a, b)
    code, out, _ = run_cli(capsys, "ged", "--pin-io", a.hash, "{}:{}".format(*a.to_strings()))
    assert code == 0 and int(out) == 0
    code, _, err = run_cli(capsys, "ged", "0" * 32, a.hash)
    assert code == 2 and "is not the module hash of a NAS-Bench-101 cell" in err
