r"""``gnnas hash`` and ``gnnas ged``: small utilities on cells written on the command line.

A cell is written as its adjacency string and its ops (the layout of the official file and of
the CSV tables): ``ADJ OPS`` as two arguments for ``gnnas hash``, ``ADJ:OPS`` as one for ``gnnas
ged``, which also takes a 32-hex module hash (looked up in the enumerated space). ``ADJ`` is the
row-major ``0``/``1`` string of the ``V × V`` matrix; ``OPS`` is ``V`` comma-separated op names,
where ``conv3x3``, ``conv1x1`` and ``maxpool`` are short for ``conv3x3-bn-relu``,
``conv1x1-bn-relu`` and ``maxpool3x3``.
"""

from __future__ import annotations

import argparse
import re
import reprlib
from typing import Any

from gnnas.cli.settings import CLIError

__all__ = ["parse_cell", "Hash", "Ged"]

_SHORT_OPS = {
    "conv3x3": "conv3x3-bn-relu",
    "conv1x1": "conv1x1-bn-relu",
    "maxpool": "maxpool3x3",
    "in": "input",
    "out": "output",
}


def _ops(text: str) -> list[str]:
    return [_SHORT_OPS.get(op.strip(), op.strip()) for op in text.split(",")]


def parse_cell(text: str, operations: str | None = None) -> Any:
    """Reads a cell written on the command line.

    Args:
        text (str): ``ADJ:OPS``, a 32-hex module hash, or ``ADJ`` when ``operations`` is given.
        operations (str, optional): the ops, comma-separated. (default: :obj:`None`)

    Returns:
        ArchSpec: the (pruned) cell.

    Raises:
        CLIError: if the text is malformed, the cell invalid, or the hash not a cell of the space.
    """
    from gnnas.space import ArchSpec

    text = text.strip()
    if operations is None and re.fullmatch(r"[0-9a-fA-F]{32}", text):
        from gnnas.space import CellNotFoundError, enumerate_cells

        try:
            space = enumerate_cells(progress=False)
            return space[space.index_of(text.lower())]
        except CellNotFoundError:
            raise CLIError(f"{text} is not the module hash of a NAS-Bench-101 cell") from None
    if operations is None:
        if ":" not in text:
            raise CLIError(f"expected a cell as ADJ:OPS or a 32-hex module hash, got {reprlib.repr(text)}")
        text, operations = text.split(":", 1)
    try:
        return ArchSpec.from_strings(text, ",".join(_ops(operations)))
    except ValueError as error:
        raise CLIError(f"invalid cell {reprlib.repr(text)}:{reprlib.repr(operations)}: {error}") from None


class Hash:
    """``gnnas hash ADJ OPS``: the official module hash of a cell."""

    NAME = "hash"
    HELP = "print the official NAS-Bench-101 module hash of a cell"
    DESCRIPTION = """\
Prints the official module hash (MD5, isomorphism-invariant) of the cell with adjacency ADJ (the
row-major 0/1 string of the V x V matrix) and ops OPS (V comma-separated names; conv3x3, conv1x1
and maxpool are short for conv3x3-bn-relu, conv1x1-bn-relu and maxpool3x3). The cell is pruned
first, as NAS-Bench-101 does; --verbose prints the pruned cell too.

example:
  gnnas hash 0100110001000000010010000010000001000000010000000 \\
      input,conv3x3,maxpool,conv3x3,conv3x3,conv1x1,output
  00005c142e6f48ac74fdcf73e3439874
"""

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Adds the command\'s arguments to ``parser``.

        Args:
            parser (argparse.ArgumentParser): the command's parser.
        """
        parser.add_argument("adjacency", metavar="ADJ", help="row-major 0/1 adjacency string, V*V characters")
        parser.add_argument(
            "operations", metavar="OPS", help="V comma-separated op names, input first, output last"
        )
        parser.add_argument("-v", "--verbose", action="store_true", help="also print the pruned cell")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Runs the command from parsed arguments.

        Args:
            args (argparse.Namespace): the parsed arguments.

        Returns:
            int: the exit status, 0 on success.

        Raises:
            CLIError: if a cell is malformed, invalid, or a hash not of the space.
        """
        spec = parse_cell(args.adjacency, args.operations)
        print(spec.hash)
        if args.verbose:
            adjacency, operations = spec.to_strings()
            print(
                f"pruned cell: {spec.num_vertices} vertices, {spec.num_edges} edges: {adjacency}:{operations}"
            )
        return 0


class Ged:
    """``gnnas ged A B``: the exact graph edit distance between two cells."""

    NAME = "ged"
    HELP = "print the exact graph edit distance between two cells"
    DESCRIPTION = """\
Prints the exact graph edit distance (unit costs: op substitution, vertex insertion or deletion,
edge insertion or deletion; what networkx.graph_edit_distance computes with a same-op node
match) between cells A and B. Each cell is ADJ:OPS (the row-major 0/1 adjacency string and the
comma-separated ops; conv3x3, conv1x1, maxpool are short names) or a 32-hex module hash (looked
up in the enumerated space, see gnnas enumerate).

examples:
  gnnas ged 010001000:input,conv3x3,output 011001000:input,maxpool,output
  2
  gnnas ged --pin-io 00005c142e6f48ac74fdcf73e3439874 010001000:input,conv3x3,output
"""

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Adds the command\'s arguments to ``parser``.

        Args:
            parser (argparse.ArgumentParser): the command's parser.
        """
        parser.add_argument("a", metavar="A", help="the first cell: ADJ:OPS or a module hash")
        parser.add_argument("b", metavar="B", help="the second cell: ADJ:OPS or a module hash")
        parser.add_argument(
            "--pin-io",
            action="store_true",
            help="input must map to input and output to output (a different, larger-or-equal metric)",
        )

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Runs the command from parsed arguments.

        Args:
            args (argparse.Namespace): the parsed arguments.

        Returns:
            int: the exit status, 0 on success.

        Raises:
            CLIError: if a cell is malformed, invalid, or a hash not of the space.
        """
        from gnnas.ged import graph_edit_distance

        a, b = parse_cell(args.a), parse_cell(args.b)
        print(graph_edit_distance(a, b, pin_io=args.pin_io))
        return 0
