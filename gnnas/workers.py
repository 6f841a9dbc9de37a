r"""Worker processes that are bounded by the cores and die with their parent.

Every command that fans work out over processes (``gnnas convert --workers``,
``benchmarks/search.py --workers``) takes its pool from here, so none starts more processes than
there are cores and tasks, and none leaves orphans behind when it is killed, even by ``SIGKILL``.

Example:
    >>> from gnnas.workers import bounded_workers, worker_pool
    >>> workers = bounded_workers(1_000_000, num_tasks=3)      # at most 3, at most the cores
    >>> with worker_pool(workers) as pool:
    ...     squares = list(pool.map(abs, [-1, -2, -3]))
    >>> squares
    [1, 2, 3]
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["available_cores", "bounded_workers", "worker_pool"]


def available_cores() -> int:
    """The number of cores this process may run on.

    Returns:
        int: the size of its CPU affinity, else ``os.cpu_count()``; at least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def bounded_workers(requested: int | None, num_tasks: int) -> int:
    """The number of processes to start: as requested, but never more than the tasks or the cores.

    Args:
        requested (int, optional): what the user asked for; :obj:`None` means one per core.
        num_tasks (int): the number of tasks to spread.

    Returns:
        int: between 1 and ``min(num_tasks, available_cores())`` (1 when there is no task).

    Raises:
        ValueError: if ``requested`` is not a positive integer.
    """
    if requested is not None and (isinstance(requested, bool) or not isinstance(requested, int)
                                  or requested < 1):
        raise ValueError(f"workers must be a positive integer, got {requested!r}")
    cores = available_cores()
    return max(1, min(cores if requested is None else requested, cores, num_tasks))


def _die_with_parent(parent: int, initializer: Callable[..., Any] | None = None,
                     initargs: tuple = ()) -> None:
    """Worker initializer: on Linux the kernel kills the worker when its parent dies (even by
    SIGKILL), so a killed command leaves no worker behind; then runs ``initializer``."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)
    if initializer is not None:
        initializer(*initargs)


def worker_pool(workers: int, *, start_method: str | None = None,
                initializer: Callable[..., Any] | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of processes that die with this process.

    Args:
        workers (int): the number of processes (see :func:`bounded_workers`).
        start_method (str, optional): ``"fork"``, ``"spawn"`` or ``"forkserver"``; :obj:`None` is
            the platform's default. (default: :obj:`None`)
        initializer (callable, optional): run in each worker when it starts. (default: :obj:`None`)
        initargs (tuple, optional): its arguments. (default: ``()``)

    Returns:
        concurrent.futures.ProcessPoolExecutor: the pool; on Linux each worker is killed by the
        kernel when this process dies, even by ``SIGKILL``.

    Raises:
        ValueError: if ``workers`` is not a positive integer.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    context = None if start_method is None else multiprocessing.get_context(start_method)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_die_with_parent,
                               initargs=(os.getpid(), initializer, tuple(initargs)))
