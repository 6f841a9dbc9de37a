"""Shared pytest fixtures.

The session points ``GNNAS_CACHE_DIR`` at a fresh temporary folder, so every call to
:func:`gnnas.space.enumerate_cells` in the test run (in tests or inside library code) uses one
cache that the run itself built: nothing stale from a user's ``~/.cache/gnnas`` is measured.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_saved_cache_dir: str | None = None
_session_cache_dir: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _saved_cache_dir, _session_cache_dir
    _saved_cache_dir = os.environ.get("GNNAS_CACHE_DIR")
    _session_cache_dir = tempfile.mkdtemp(prefix="gnnas-test-cache-")
    os.environ["GNNAS_CACHE_DIR"] = _session_cache_dir


def pytest_unconfigure(config: pytest.Config) -> None:
    if _saved_cache_dir is None:
        os.environ.pop("GNNAS_CACHE_DIR", None)
    else:
        os.environ["GNNAS_CACHE_DIR"] = _saved_cache_dir
    if _session_cache_dir is not None:
        shutil.rmtree(_session_cache_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def space():
    """All 423,624 NAS-Bench-101 cells (:class:`gnnas.space.CellSpace`), enumerated once per session."""
    from gnnas.space import enumerate_cells

    return enumerate_cells(progress=False)
