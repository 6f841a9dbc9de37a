r"""``gnnas locality`` and ``gnnas benchmark NAME``: run the scripts of ``benchmarks/``.

The benchmarks are scripts of the source checkout (``benchmarks/*.py``, not part of the installed
package); these subcommands load the script from the checkout the package was installed from
(``pip install -e .``) and call its ``main(argv)`` with the remaining arguments, so
``gnnas locality --quick`` is ``python benchmarks/locality.py --quick``. ``gnnas locality
--help`` prints the script's own options.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from gnnas.cli.settings import CLIError

__all__ = ["benchmarks_folder", "load_benchmark", "run_benchmark", "Locality", "Benchmark"]


def benchmarks_folder() -> Path:
    """The ``benchmarks/`` folder of the source checkout of the installed package.

    Returns:
        pathlib.Path: the folder.

    Raises:
        CLIError: if the package was not installed from a checkout that has the folder.
    """
    import gnnas

    folder = Path(gnnas.__file__).resolve().parents[1] / "benchmarks"
    if not folder.is_dir():
        raise CLIError(
            f"the benchmarks are scripts of the source checkout, and {folder} does not exist; "
            "clone the gnnas repository and install it with `pip install -e .`"
        )
    return folder


def available() -> list[str]:
    """The names of the benchmark scripts of the checkout (empty without a checkout)."""
    try:
        folder = benchmarks_folder()
    except CLIError:
        return []
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def load_benchmark(name: str) -> ModuleType:
    """Imports ``benchmarks/<name>.py`` of the checkout as a module.

    Args:
        name (str): the script's name, without ``.py``.

    Returns:
        types.ModuleType: the script, imported.

    Raises:
        CLIError: if there is no such script or it has no ``main``.
    """
    folder = benchmarks_folder()
    path = folder / f"{name}.py"
    if not path.is_file():
        raise CLIError(f"no benchmark {name!r}; expected one of {available()}")
    spec = importlib.util.spec_from_file_location(f"gnnas_benchmarks_{name}", path)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise CLIError(f"{path} has no main(argv) function")
    return module


def run_benchmark(name: str, argv: Sequence[str], prog: str) -> int:
    """Calls ``main(argv)`` of ``benchmarks/<name>.py`` with ``prog`` as the program name in its help.

    Args:
        name (str): the script's name, without ``.py``.
        argv (Sequence[str]): its arguments.
        prog (str): the program name its usage line shows.

    Returns:
        int: the exit status (0 unless the script exits otherwise).

    Raises:
        CLIError: as :func:`load_benchmark`.
    """
    module = load_benchmark(name)
    saved = sys.argv[0]
    sys.argv[0] = prog  # argparse takes the program name of the usage line from here
    try:
        module.main(list(argv))
    finally:
        sys.argv[0] = saved
    return 0


class Locality:
    """``gnnas locality ...``: ``benchmarks/locality.py`` (the paper's Fig. 1 and 2)."""

    NAME = "locality"
    PASSTHROUGH = True
    HELP = "the locality benchmark, the paper's Fig. 1 and 2 (benchmarks/locality.py; see its --help)"
    DESCRIPTION = """\
Runs benchmarks/locality.py of the source checkout with the given arguments: the exact graph edit
distance of random pairs of cells (Fig. 1a), |delta accuracy| against distance on a table (Fig.
1b: the NAS-Bench-101 sample bundled with gnnas, or --data), embedding similarity against
distance for pretrained controllers (Fig. 1c) and a 2-D map of the embeddings (Fig. 2).
gnnas locality --help lists the script's options.

examples:
  gnnas locality --quick
  gnnas locality
  gnnas locality --data nasbench_only108.tfrecord
"""

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Adds the command\'s arguments to ``parser``.

        Args:
            parser (argparse.ArgumentParser): the command's parser.
        """
        parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments of benchmarks/locality.py")

    @staticmethod
    def run_argv(argv: Sequence[str]) -> int:
        """Runs the command with its raw arguments (not parsed by ``gnnas``).

        Args:
            argv (Sequence[str]): the arguments after ``gnnas locality``.

        Returns:
            int: the exit status, 0 on success.

        Raises:
            CLIError: if there is no checkout with ``benchmarks/locality.py`` (``--help`` then
                explains why instead).
        """
        if list(argv[:1]) in (["-h"], ["--help"]):
            try:
                load_benchmark("locality")
            except CLIError as error:  # still explain the command, and why the script's options are missing
                print(f"usage: gnnas locality [ARGS ...]\n\n{Locality.DESCRIPTION}\n{error}")
                return 0
        return run_benchmark("locality", argv, prog="gnnas locality")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Runs the command from parsed arguments.

        Args:
            args (argparse.Namespace): the parsed arguments.

        Returns:
            int: the exit status, 0 on success.

        Raises:
            CLIError: as :meth:`run_argv`.
        """
        return Locality.run_argv(args.args)


class Benchmark:
    """``gnnas benchmark NAME ...``: any script of ``benchmarks/``."""

    NAME = "benchmark"
    PASSTHROUGH = True
    HELP = (
        "run benchmarks/NAME.py (search: the paper's Table 1 and Fig. 4, ...); see gnnas benchmark --help"
    )
    DESCRIPTION = """\
Runs benchmarks/NAME.py of the source checkout with the remaining arguments;
gnnas benchmark NAME --help lists the script's options.
"""

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Adds the command\'s arguments to ``parser``.

        Args:
            parser (argparse.ArgumentParser): the command's parser.
        """
        parser.add_argument("name", nargs="?", help="the benchmark script")
        parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")

    @staticmethod
    def usage() -> str:
        """The help text, with the benchmark scripts of this checkout.

        Returns:
            str: the text ``gnnas benchmark --help`` prints.
        """
        names = available()
        lines = ["usage: gnnas benchmark NAME [ARGS ...]", "", Benchmark.DESCRIPTION.rstrip(), ""]
        if names:
            lines.append("benchmarks of this checkout:")
            for name in names:
                lines.append(f"  {name:<20} gnnas benchmark {name} --help")
        else:
            lines.append("no benchmarks/ folder: the scripts come with the source checkout")
        return "\n".join(lines)

    @staticmethod
    def run_argv(argv: Sequence[str]) -> int:
        """Runs the command with its raw arguments (not parsed by ``gnnas``).

        Args:
            argv (Sequence[str]): the arguments after ``gnnas benchmark``: the script's name, then
                its arguments.

        Returns:
            int: the exit status: 0 on success, 2 without a name.

        Raises:
            CLIError: if the name is not a benchmark script of the checkout.
        """
        if not argv:
            print(Benchmark.usage(), file=sys.stderr)
            print("gnnas benchmark: error: the benchmark NAME is required", file=sys.stderr)
            return 2
        if argv[0] in ("-h", "--help"):
            print(Benchmark.usage())
            return 0
        name, rest = argv[0], argv[1:]
        if name.startswith("-") or os.sep in name or name.endswith(".py"):
            raise CLIError(f"expected a benchmark name such as {available()[:3]}, got {name!r}")
        return run_benchmark(name, rest, prog=f"gnnas benchmark {name}")

    @staticmethod
    def run(args: Any) -> int:
        """Runs the command from parsed arguments.

        Args:
            args (argparse.Namespace): the parsed arguments.

        Returns:
            int: the exit status, 0 on success.

        Raises:
            CLIError: as :meth:`run_argv`.
        """
        return Benchmark.run_argv([args.name, *args.args] if args.name else [])
