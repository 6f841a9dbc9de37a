r"""The ``gnnas`` command line: thin wrappers over the library for the main jobs.

=====================  =====================================================================
``gnnas enumerate``    enumerate and cache the 423,624 cells (:func:`gnnas.space.enumerate_cells`)
``gnnas download``     download, check and convert an official file (:mod:`gnnas.nasbench.download`)
``gnnas convert``      convert the official ``.tfrecord`` file (:class:`gnnas.nasbench.NASBench101`)
``gnnas pretrain``     pretrain a controller with a loss preset (:func:`gnnas.pretrain.pretrain`)
``gnnas search``       NAO, random search, evolution, local search (:mod:`gnnas.search`)
``gnnas locality``     the locality benchmark, the paper's Fig. 1 and 2 (``benchmarks/locality.py``)
``gnnas benchmark``    any script of ``benchmarks/`` (``gnnas benchmark search``: Table 1)
``gnnas hash``         the official module hash of a cell
``gnnas ged``          the exact graph edit distance between two cells
=====================  =====================================================================

``python -m gnnas`` is the same command. Errors that are the user's (a bad value, a missing
file) print ``gnnas: error: ...`` and exit with status 2, without a traceback
(``GNNAS_DEBUG=1`` shows it). Settings of long runs come from flags or ``--config FILE.json``
(flags win) and are saved as ``command.json`` beside the results (:mod:`gnnas.cli.settings`).
"""

import os
import sys

try:  # torch and PyG load here: Ctrl-C meanwhile ends the command in one line, as at any later moment
    import gnnas

    for _name in gnnas.__all__:  # the whole library, before any command runs
        getattr(gnnas, _name)
    from gnnas.cli.main import USER_ERRORS, build_parser, main
    from gnnas.cli.settings import CLIError
except KeyboardInterrupt:
    _name = os.path.basename(sys.argv[0]) if sys.argv else ""
    _prog = _name if _name.endswith(".py") and _name != "__main__.py" else "gnnas"  # a script, as run_script
    print(f"{_prog}: interrupted", file=sys.stderr, flush=True)
    raise SystemExit(130) from None

__all__ = ["main", "build_parser", "CLIError", "USER_ERRORS"]
