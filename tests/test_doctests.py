"""The examples in the docstrings run as written, and every public class has one.

Each module of the packages below is one test: its ``>>>`` examples run with :mod:`doctest` in a
fresh temporary folder (examples that save files write there). An example that would need long
training is marked ``# doctest: +SKIP`` in the docstring.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil

import pytest
import torch

#: The packages whose docstrings are run; each public class in them has an example.
PACKAGES = ("gnnas.nasbench", "gnnas.pretrain", "gnnas.search")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = importlib.import_module(package).__path__
        names += [info.name for info in pkgutil.walk_packages(path, f"{package}.")]
    return sorted(names)


@pytest.mark.parametrize("name", modules())
def test_examples_run(name: str, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    threads = torch.get_num_threads()
    try:
        for test in doctest.DocTestFinder().find(module, name):
            runner.run(test, out=output.write)
    finally:
        torch.set_num_threads(threads)
    assert runner.failures == 0, output.getvalue()


def public_classes() -> list[str]:
    found = set()
    for name in modules():
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", ()):
            obj = getattr(module, attribute)
            if inspect.isclass(obj) and obj.__module__ == name:
                found.add(f"{name}.{attribute}")
    return sorted(found)


@pytest.mark.parametrize("name", public_classes())
def test_public_class_has_an_example(name: str) -> None:
    module_name, _, class_name = name.rpartition(".")
    doc = inspect.getdoc(getattr(importlib.import_module(module_name), class_name)) or ""
    assert ">>> " in doc, f"{name} has no example (an 'Example:' section with >>> lines)"
