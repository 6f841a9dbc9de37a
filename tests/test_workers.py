"""The worker pools of every command: bounded by tasks and cores, dying with their parent."""

import os
import sys

import pytest

from gnnas import workers as workers_module
from gnnas.workers import available_cores, bounded_workers, worker_pool


def test_available_cores():
    assert 1 <= available_cores() <= (os.cpu_count() or 1)


def test_bounded_workers_never_exceeds_tasks_or_cores(monkeypatch):
    monkeypatch.setattr(workers_module, "available_cores", lambda: 4)
    for requested, tasks, expected in [(None, 100, 4), (None, 2, 2), (10**9, 100, 4), (3, 100, 3),
                                       (10**9, 1, 1), (2, 0, 1), (1, 100, 1)]:
        assert bounded_workers(requested, tasks) == expected, (requested, tasks)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            bounded_workers(bad, 10)
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            worker_pool(bad)


def _mark_of_this_process():
    return os.environ.get("GNNAS_TEST_MARK", "unset")


def _mark(value):
    os.environ["GNNAS_TEST_MARK"] = value


@pytest.mark.parametrize("start_method", [None, "fork"])
def test_worker_pool_runs_the_initializer(start_method):
    with worker_pool(2, start_method=start_method, initializer=_mark, initargs=("set",)) as pool:
        assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]
        assert set(pool.submit(_mark_of_this_process).result() for _ in range(4)) == {"set"}
    assert os.environ.get("GNNAS_TEST_MARK") is None  # the parent is untouched


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
@pytest.mark.parametrize("start_method", [None, "fork"])
def test_workers_die_with_their_parent(start_method):
    import signal
    import subprocess
    import time

    script = (
        "import os, sys, time\n"
        "from gnnas.workers import worker_pool\n"
        f"pool = worker_pool(2, start_method={start_method!r})\n"
        "futures = [pool.submit(time.sleep, 120) for _ in range(2)]\n"
        "time.sleep(1)\n"
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2
        parent.send_signal(signal.SIGKILL)  # no chance to clean up
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        parent.kill()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has died
    except FileNotFoundError:
        return False
