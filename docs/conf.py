"""Sphinx configuration for the gnnas documentation."""

from __future__ import annotations

import logging
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import gnnas  # noqa: E402

project = "gnnas"
author = "The gnnas developers"
copyright = "2026, the gnnas developers"
release = gnnas.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shapes"]

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "torch_geometric": ("https://pytorch-geometric.readthedocs.io/en/latest", None),
}
intersphinx_timeout = 5
# Cross-references to types that intersphinx cannot resolve offline are not errors.
nitpicky = False

html_theme = "alabaster"
exclude_patterns = ["_build"]
templates_path: list[str] = []


class _OfflineInventoryFilter(logging.Filter):
    """Downgrades "failed to reach any of the inventories" to an info message.

    The docs build on machines without internet access (CI among them); cross-links to Python,
    NumPy, PyTorch and PyG are added whenever their inventories can be fetched.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if "failed to reach any of the inventories" in str(record.msg):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def setup(app: object) -> None:
    logging.getLogger("sphinx.sphinx.ext.intersphinx._load").addFilter(_OfflineInventoryFilter())
    logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_OfflineInventoryFilter())
