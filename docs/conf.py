"""Sphinx configuration for the gnnas documentation."""

from __future__ import annotations

import ast
import logging
import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

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
    "gnnas_api",
    "gnnas_cli",
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

# Every cross-reference must resolve, except those to other projects' objects: intersphinx links
# them when their inventories can be fetched, and offline they are plain text (never a gnnas name).
nitpicky = True
_EXTERNAL_PACKAGES = (
    "torch", "torch_geometric", "numpy", "scipy", "matplotlib", "networkx", "pytorch_metric_learning",
    "tqdm", "google_crc32c", *sorted(sys.stdlib_module_names),
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_EXTERNAL_PACKAGES)})(\..*)?"),
    # Words of type fields that are not objects: napoleon makes "optional" of "(float, optional)"
    # a class reference, and NumPy's and Python's glossaries have "array-like" and "callable".
    (r"py:class", r"optional|array-like|array_like|callable"),
    # PyG's graph classes by their short names, as PyG's own docstrings write them.
    (r"py:class", r"Data|Batch"),
]

html_theme = "alabaster"
exclude_patterns = ["_build", "results/**/*.rst"]  # tables the benchmarks write, included where used
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


def _literal_is_not_a_reference(app: object, env: object, node: object, contnode: object) -> object:
    """``(default: :obj:`0.`)``, PyG's way to write a default, is a value, not a missing reference."""
    if node.get("refdomain") == "py" and node.get("reftype") == "obj":  # type: ignore[attr-defined]
        try:
            ast.literal_eval(node["reftarget"])  # type: ignore[index]
        except (ValueError, SyntaxError):
            return None
        return contnode
    return None


def setup(app: object) -> None:
    app.connect("missing-reference", _literal_is_not_a_reference, priority=900)  # type: ignore[attr-defined]
    logging.getLogger("sphinx.sphinx.ext.intersphinx._load").addFilter(_OfflineInventoryFilter())
    logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_OfflineInventoryFilter())
