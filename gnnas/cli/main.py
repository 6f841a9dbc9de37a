r"""The ``gnnas`` command: one parser, subcommands, and errors without tracebacks.

A user's mistake (a bad value, a missing file, a cell outside a table) ends the command with
``gnnas: error: <what was wrong>`` on standard error and exit status 2, as argparse does for bad
flags; set ``GNNAS_DEBUG=1`` to see the traceback instead. An interrupted command exits with 130.
Warnings (a damaged cache being rebuilt) are one line too: ``gnnas: warning: <what happened>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from gnnas.cli import benchmark, cells, convert, download, pretrain, search
from gnnas.cli import enumerate as enumerate_command  # the module, not the builtin
from gnnas.cli.settings import CLIError

__all__ = ["main", "run_script", "build_parser", "USER_ERRORS"]

_DESCRIPTION = """\
gnnas: pretraining NAS controllers with locality-based self-supervised learning, on PyG.

Each subcommand is a thin wrapper over the library (gnnas.space, gnnas.nasbench, gnnas.pretrain,
gnnas.search, benchmarks/); gnnas COMMAND --help explains its options. Long-running commands
take their settings from flags or --config FILE.json (flags win) and save them as
command.json beside their results.
"""

_EPILOG = """\
examples:
  gnnas enumerate                                   # the 423,624 cells, cached
  gnnas download                                    # the official file, checked and converted
  gnnas pretrain --loss MarginLoss --optimizer adam --lr 0.001 --iterations 1000 --out results/pretrain/margin
  gnnas search --method nao --controller results/pretrain/margin --budget 300   # the bundled 30k table
  gnnas locality --quick                            # the paper's Fig. 1 and 2, small
  gnnas ged 010001000:input,conv3x3,output 011001000:input,maxpool,output   # 2
"""

#: The exception types reported as user mistakes (message, exit status 2, no traceback).
#: ``OutOfDomainError``, ``TFRecordError`` and ``CLIError`` are ``ValueError`` s;
#: ``CellNotFoundError`` is a ``KeyError``.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)

_SUBCOMMANDS = (
    enumerate_command,
    download,
    convert,
    pretrain,
    search,
    benchmark.Locality,
    benchmark.Benchmark,
    cells.Ged,
    cells.Hash,
)


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of the ``gnnas`` command and its subcommands.

    Returns:
        argparse.ArgumentParser: the parser; ``parse_args`` gives a namespace whose ``run``
        attribute is the subcommand's function.
    """
    import gnnas

    parser = argparse.ArgumentParser(
        prog="gnnas",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gnnas {gnnas.__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for command in _SUBCOMMANDS:
        sub = subparsers.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=not getattr(command, "PASSTHROUGH", False),
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def _error(message: str, prog: str = "gnnas") -> int:
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return 2


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.strerror}: {os.fspath(error.filename)!r}"
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return text or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``gnnas`` command.

    Args:
        argv (Sequence[str], optional): the arguments after ``gnnas``. (default: :obj:`None`,
            ``sys.argv[1:]``)

    Returns:
        int: the exit status: 0 on success, 2 on a user mistake, 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    resumable = argv[0] if argv and argv[0] in ("pretrain", "search") else None
    return _guarded(lambda: _main(argv), "gnnas", resumable)


def run_script(function: Callable[[], Any], prog: str | None = None) -> int:
    """Runs a script's ``main()`` with the error handling of the ``gnnas`` command.

    The scripts of ``benchmarks/`` end with ``sys.exit(run_script(main))``, so that
    ``python benchmarks/NAME.py`` reports a user's mistake (a bad flag value, a damaged file, a
    table with a bad row) as ``gnnas benchmark NAME`` does: one line on standard error, no
    traceback (unless ``GNNAS_DEBUG=1``), and a non-zero exit status.

    Args:
        function (Callable[[], Any]): the script's ``main``, called without arguments (it parses
            ``sys.argv``); an :obj:`int` it returns is the exit status.
        prog (str, optional): the name that starts each message. (default: :obj:`None`, the
            script's file name)

    Returns:
        int: the exit status: 0 on success, 2 on a user mistake, 130 when interrupted.
    """
    return _guarded(function, prog or os.path.basename(sys.argv[0]) or "gnnas")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Shows a warning (such as a cache being rebuilt) as one line, ``gnnas: warning: ...``."""
    print(f"gnnas: warning: {message}", file=sys.stderr if file is None else file, flush=True)


def _guarded(function: Callable[[], Any], prog: str, resumable: str | None = None) -> int:
    """Calls ``function()``; a user's mistake or an interruption becomes one line and an exit status
    (naming ``--resume`` when the command ``resumable`` was interrupted)."""
    from gnnas.space import CellNotFoundError

    with warnings.catch_warnings():  # restores the caller's warning display afterwards
        warnings.showwarning = _show_warning
        try:
            status = function()
            return status if isinstance(status, int) else 0
        except SystemExit as stop:  # argparse: --help (0) or a bad flag (2, message already printed)
            code = stop.code
            if code is None or isinstance(code, int):
                return code or 0
            return _error(str(code), prog)
        except KeyboardInterrupt:
            hint = f" (gnnas {resumable} --resume continues from the last checkpoint)" if resumable else ""
            print(f"{prog}: interrupted{hint}", file=sys.stderr, flush=True)
            return 130
        except (*USER_ERRORS, CellNotFoundError, CLIError) as error:
            if os.environ.get("GNNAS_DEBUG"):
                raise
            return _error(_message(error), prog)


def _main(argv: list[str]) -> int:
    for command in (benchmark.Locality, benchmark.Benchmark):
        if argv and argv[0] == command.NAME:  # argparse would eat the benchmark's own flags
            return command.run_argv(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv  # recorded in command.json
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.run(args) or 0)
