"""Every public object documents its arguments, its result and its errors (Google style).

The public objects are the names in the ``__all__`` of every module of :mod:`gnnas`: functions,
classes, and the public methods and properties the classes define. Each is checked once, where it
is defined:

- a function or method has a docstring, an ``Args:`` section when it takes parameters (besides
  ``self`` and ``cls``), a ``Returns:`` (or ``Yields:``) section unless its return annotation is
  ``None``, and a ``Raises:`` section when it raises (``NotImplementedError`` aside): its body, or
  a private or ``check_*`` helper of gnnas that it calls;
- a class has a docstring, with ``Args:`` when its own constructor (``__init__``, ``__new__`` or a
  dataclass's fields) takes parameters and ``Raises:`` when its constructor (with
  ``__post_init__``) raises;
- a property (or cached property) has a docstring (a description of the value suffices).

Whether the sections say the truth is for the reader of the code; this test keeps them present.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import gnnas

#: Section headers napoleon reads for each kind of section.
SECTIONS = {
    "args": ("Args", "Arguments", "Parameters"),
    "returns": ("Returns", "Return", "Yields", "Yield"),
    "raises": ("Raises",),
    "attributes": ("Attributes",),
}


def module_names() -> list[str]:
    """Every module of gnnas, the package itself included."""
    return sorted({"gnnas", *(info.name for info in pkgutil.walk_packages(gnnas.__path__, "gnnas."))})


def is_ours(obj: Any) -> bool:
    """Whether ``obj`` is defined in gnnas."""
    return (getattr(obj, "__module__", None) or "").partition(".")[0] == "gnnas"


def public_objects() -> dict[str, Any]:
    """The functions and classes named in some ``__all__``, by the dotted name of their definition."""
    found: dict[str, Any] = {}
    for name in module_names():
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", ()):
            obj = getattr(module, attribute)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and is_ours(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties that ``cls`` itself defines (not inherits)."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, (property, functools.cached_property)) or inspect.isfunction(value):
            yield name, value


def has_section(doc: str, kind: str) -> bool:
    return any(re.search(rf"^\s*{header}:\s*$", doc, re.M) for header in SECTIONS[kind])


def raises_in(function: Callable[..., Any], helpers: bool = True) -> bool:
    """Whether ``function`` raises an exception (not ``NotImplementedError``) on its own.

    That is, whether its body has such a ``raise``, or (with ``helpers``) calls a gnnas helper that
    has one: a private function (``_check_dropout``) or a ``check_*`` one (``check_int``) of its
    module's namespace. Public functions it calls document their own errors.
    """
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return False
    namespace = getattr(function, "__globals__", {})
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if not (isinstance(exc, ast.Name) and exc.id == "NotImplementedError"):
                return True
        if helpers and isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, helper = node.func.id, namespace.get(node.func.id)
            is_helper = name.startswith("_") or name.startswith("check_")
            if is_helper and inspect.isfunction(helper) and is_ours(helper) and raises_in(helper, False):
                return True
    return False


def parameters(function: Callable[..., Any], bound: bool) -> list[str]:
    names = list(inspect.signature(function).parameters)
    return names[1:] if bound and names and names[0] in ("self", "cls") else names


def returns_something(function: Callable[..., Any]) -> bool:
    annotation = inspect.signature(function).return_annotation
    return annotation not in (None, "None", type(None))


def function_problems(function: Callable[..., Any], bound: bool) -> list[str]:
    doc = inspect.getdoc(function) or ""
    if not doc.strip():
        return ["no docstring"]
    problems = []
    if parameters(function, bound) and not has_section(doc, "args"):
        problems.append("no Args")
    if returns_something(function) and not has_section(doc, "returns"):
        problems.append("no Returns")
    if raises_in(function) and not has_section(doc, "raises"):
        problems.append("raises, but no Raises")
    return problems


def constructor_parameters(cls: type) -> list[str]:
    """The parameters of the constructor that a gnnas class defines (none if it inherits one)."""
    for klass in cls.__mro__:
        if "__init__" in vars(klass) or "__new__" in vars(klass):
            if not is_ours(klass):
                return []
            try:
                return list(inspect.signature(cls).parameters)
            except (TypeError, ValueError):
                return []
    return []


def constructor_raises(cls: type) -> bool:
    """Whether the constructor that a gnnas class defines (with ``__post_init__``) raises."""
    if not is_ours(cls):
        return False
    for name in ("__init__", "__new__", "__post_init__"):
        method = vars(cls).get(name)
        if isinstance(method, staticmethod):
            method = method.__func__
        if inspect.isfunction(method) and raises_in(method):
            return True
    return False


def class_problems(cls: type) -> list[str]:
    doc = inspect.getdoc(cls) or ""
    if not doc.strip() or doc == inspect.getdoc(cls.__mro__[1]):
        return ["no docstring"]
    problems = []
    # A record's fields are its constructor's parameters: ``Attributes:`` documents both.
    record = dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
    documented = has_section(doc, "args") or (record and has_section(doc, "attributes"))
    if constructor_parameters(cls) and not documented:
        problems.append("no Args")
    if constructor_raises(cls) and not has_section(doc, "raises"):
        problems.append("constructor raises, but no Raises")
    return problems


@functools.cache
def problems() -> dict[str, list[str]]:
    """Every public object with something missing, by dotted name."""
    found: dict[str, list[str]] = {}
    for name, obj in public_objects().items():
        if inspect.isfunction(obj):
            found[name] = function_problems(obj, bound=False)
            continue
        found[name] = class_problems(obj)
        for member, value in members(obj):
            if isinstance(value, (property, functools.cached_property)):
                found[f"{name}.{member}"] = [] if (value.__doc__ or "").strip() else ["no docstring"]
            else:
                found[f"{name}.{member}"] = function_problems(value, bound=True)
    return {name: each for name, each in found.items() if each}


def test_the_walk_finds_the_public_api() -> None:
    names = public_objects()
    for expected in ("space.spec.ArchSpec", "search.oracle.Oracle", "pretrain.trainer.pretrain"):
        assert f"gnnas.{expected}" in names
    assert len(names) > 100


#: The parts of gnnas checked one by one: each subpackage, and each top-level module.
PARTS = sorted({name.split(".")[1] for name in module_names() if name != "gnnas"})


@pytest.mark.parametrize("part", PARTS)
def test_every_public_object_documents_args_returns_raises(part: str) -> None:
    missing = {name: each for name, each in problems().items() if name.split(".")[1] == part}
    listing = "\n".join(f"  {name}: {', '.join(each)}" for name, each in missing.items())
    assert not missing, f"{len(missing)} public objects lack docstring sections:\n{listing}"


# ---------------------------------------------------------------------- the checker itself
def _documented(x: int) -> int:
    """Doubles.

    Args:
        x: a number.

    Returns:
        int: twice ``x``.

    Raises:
        ValueError: if ``x`` is negative.
    """
    if x < 0:
        raise ValueError("negative")
    return 2 * x


def _bare(x: int) -> int:
    """Doubles."""
    if x < 0:
        raise ValueError("negative")
    return 2 * x


def _nothing() -> None:
    """Does nothing."""
    raise NotImplementedError


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (_documented, []),
        (_bare, ["no Args", "no Returns", "raises, but no Raises"]),
        (_nothing, []),
        (lambda: None, ["no docstring"]),
    ],
)
def test_function_problems(function: Callable[..., Any], expected: list[str]) -> None:
    assert function_problems(function, bound=False) == expected


def test_class_problems() -> None:
    class Bare:
        """A thing."""

        def __init__(self, size: int) -> None:
            if size < 0:
                raise ValueError("negative")

    class Inherited(ValueError):
        """An error."""

    assert class_problems(Bare) == []  # not ours: its constructor is not gnnas's
    Bare.__module__ = "gnnas.example"
    assert class_problems(Bare) == ["no Args", "constructor raises, but no Raises"]
    assert class_problems(Inherited) == []


def test_raises_in_looks_into_private_and_check_helpers() -> None:
    from gnnas.nn.predictor import MLPPredictor

    init = MLPPredictor.__init__  # raises only through _check_positive_ints and _check_dropout
    assert raises_in(init) and not raises_in(init, helpers=False)
    assert raises_in(_documented) and not raises_in(_nothing)
