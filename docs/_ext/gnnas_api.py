"""Sphinx directives that document gnnas's public names where users import them.

``.. gnnas-module:: gnnas.search.oracle`` writes the module's docstring, then every public name of
the module (its ``__all__``): under the package's name (``gnnas.search.Oracle``) when the package
re-exports it, under the module's name otherwise. The defining name (``gnnas.search.oracle.Oracle``)
stays an alias of the entry, so type hints, references written inside the module
(``:attr:`Oracle.budget```) and references by the full defining name all land on it.

``.. gnnas-reexports:: gnnas`` lists the names of the top-level package, each with its first
docstring line and a link to the entry of its subpackage; ``gnnas.ArchSpec`` is an alias too, so
a bare ``ArchSpec`` in a type resolves to ``gnnas.space.ArchSpec`` and not ambiguously.

A public name added to a module's ``__all__`` is documented without editing the pages, and the
build checks that every name of every ``__all__`` of gnnas is documented where users import it
(``gnnas.ArchSpec``, ``gnnas.search.Oracle``, ``gnnas.space.ops.INPUT``), or, for a function or
class that a module re-exports from another (``gnnas.cli.settings.CLIError``), where it is
defined: a name that is not is a warning, so an error under ``-W``.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

logger = logging.getLogger(__name__)

_ROLE = re.compile(r":[a-z]+:`(~?)([^`<]+?)`")
_KINDS = {"autoexception": "exception", "autoclass": "class", "autofunction": "function", "autodata": "data"}
_ROLES = {"exception": "exc", "class": "class", "function": "func", "data": "data"}
_MAX_VALUE = 80  # longer values are left to the docstring


def _as_literal(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"``{target.rpartition('.')[2] if match.group(1) else target}``"


def public_names(module: ModuleType) -> list[str]:
    """The public names of a module: its ``__all__``, or else what it defines and documents.

    Args:
        module: the module.

    Returns:
        list[str]: the names, in the order of ``__all__`` or of the source.
    """
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    analyzer = ModuleAnalyzer.for_module(module.__name__)
    documented = {name for (scope, name) in analyzer.find_attr_docs() if scope == ""}
    order = analyzer.tagorder
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        defined_here = getattr(obj, "__module__", None) == module.__name__
        if name in documented or ((inspect.isclass(obj) or inspect.isfunction(obj)) and defined_here):
            found.append(name)
    return sorted(found, key=lambda name: order.get(name, len(order)))


def home(module: ModuleType, name: str) -> str:
    """The module under which ``module.name`` is documented: its package if that re-exports it.

    A name that is also a submodule of the package (``gnnas.cli.main``) stays in its module.

    Args:
        module: the module that defines or holds the name.
        name: the public name.

    Returns:
        str: the dotted module name.
    """
    package_name = module.__name__.rpartition(".")[0]
    if package_name and f"{package_name}.{name}" not in sys.modules:
        package = importlib.import_module(package_name)
        if name in getattr(package, "__all__", ()) and getattr(package, name) is getattr(module, name):
            return package_name
    return module.__name__


def directive_for(obj: Any) -> str:
    """The autodoc directive that documents an object.

    Args:
        obj: the object.

    Returns:
        str: ``autoexception``, ``autoclass``, ``autofunction`` or ``autodata``.
    """
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "autofunction"
    return "autodata"


def data_lines(module: ModuleType, name: str, where: str, attr_docs: dict) -> list[str]:
    """A ``py:data`` entry for a module constant, with its ``#:`` comment as the text.

    autodoc's ``autodata`` would read the comment from the package that re-exports the name (where
    it is not) and fall back to the docstring of the value's type (``dict()``'s).
    """
    lines = [f".. py:data:: {name}", f"   :module: {where}"]
    annotation = getattr(module, "__annotations__", {}).get(name)
    if annotation is not None:
        if not isinstance(annotation, str):
            annotation = inspect.formatannotation(annotation)
        lines.append(f"   :type: {annotation}")
    value = repr(getattr(module, name))
    if len(value) <= _MAX_VALUE:
        lines.append(f"   :value: {value}")
    lines.append("")
    lines.extend("   " + line for line in attr_docs.get(("", name), []))
    return lines


class ModuleDirective(SphinxDirective):
    """``.. gnnas-module:: MODULE``: the module's docstring and every public name of it."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        attr_docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        lines = [f".. automodule:: {module_name}", "   :no-members:", ""]
        moved, borrowed = [], []
        for name in public_names(module):
            obj = getattr(module, name)
            defined = inspect.isclass(obj) or inspect.isfunction(obj)
            origin = getattr(obj, "__module__", None) if defined else None
            if origin not in (None, module_name):
                borrowed.append(f":{_ROLES[_KINDS[directive_for(obj)]]}:`~{origin}.{obj.__qualname__}`")
                continue  # documented where it is defined
            where = home(module, name)
            if where != module_name:
                moved.append((f"{where}.{name}", f"{module_name}.{name}"))
            if directive_for(obj) == "autodata":
                lines += data_lines(module, name, where, attr_docs)
            else:
                lines.append(f".. {directive_for(obj)}:: {where}.{name}")
            lines.append("")
        if borrowed:
            lines += [f"Also importable from ``{module_name}``: {', '.join(borrowed)}.", ""]
        result = parse(self, lines)
        domain = self.env.get_domain("py")
        for documented, defined in moved:
            entry = domain.objects.get(documented)
            if entry is not None and defined not in domain.objects:
                domain.note_object(defined, entry.objtype, entry.node_id, aliased=True)
        return result


class ReexportsDirective(SphinxDirective):
    """``.. gnnas-reexports:: PACKAGE``: the package's names, each linked to its subpackage entry."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        package_name = self.arguments[0]
        package = importlib.import_module(package_name)
        lines = [f".. py:currentmodule:: {package_name}", ""]
        names = [name for name in package.__all__ if not name.startswith("__")]
        for name in names:
            obj = getattr(package, name)
            kind = _KINDS[directive_for(obj)]
            role = _ROLES[kind]
            summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
            # Roles in the summary would resolve against the top-level package: write them as text.
            summary = _ROLE.sub(_as_literal, summary)
            subpackage = documented_subpackage(package_name, name, obj)
            lines += [f".. py:{kind}:: {name}", "", f"   :{role}:`{subpackage}.{name}`: {summary}", ""]
        result = parse(self, lines)
        domain = self.env.get_domain("py")
        for name in names:  # aliases, so that a bare name means the subpackage's entry
            entry = domain.objects[f"{package_name}.{name}"]
            domain.objects[f"{package_name}.{name}"] = entry._replace(aliased=True)
        return result


def documented_subpackage(package_name: str, name: str, obj: Any) -> str:
    """The subpackage that re-exports ``obj`` under ``name`` (and so documents it).

    Args:
        package_name: the top-level package.
        name: the re-exported name.
        obj: the object.

    Returns:
        str: the dotted name of the subpackage, or the defining module if none re-exports it.
    """
    parts = obj.__module__.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        candidate = importlib.import_module(".".join(parts[:depth]))
        if candidate.__name__ != package_name and name in getattr(candidate, "__all__", ()):
            return candidate.__name__
    return obj.__module__


def parse(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    """Parses generated reStructuredText in the directive's place.

    Args:
        directive: the directive.
        lines: the generated lines.

    Returns:
        list[nodes.Node]: the parsed nodes.
    """
    container = nodes.section()
    container.document = directive.state.document
    source = directive.get_source_info()[0]
    nested_parse_with_titles(directive.state, StringList(lines, source), container)
    return container.children


def _dotted_name(obj: Any) -> str | None:
    """``module.qualname`` of a module, class or function; None for other objects."""
    if inspect.ismodule(obj):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if (inspect.isclass(obj) or callable(obj)) and isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def defining_name(target: str, module_name: str | None) -> str | None:
    """The dotted name where the object that ``target`` names is defined.

    ``target`` is looked up as Python would inside the module ``module_name`` (``ArchSpec.to_data``
    in a module that imports ``ArchSpec``), or else as an absolute dotted name
    (``gnnas.NAOController.load``). Objects that are not modules, classes or functions (constants,
    properties, dataclass fields) keep the name of their owner followed by theirs.

    Args:
        target: the dotted name, as written in a reference.
        module_name: the module the reference was written in, or None.

    Returns:
        str | None: e.g. ``gnnas.space.spec.ArchSpec.to_data``; None if the target names nothing.
    """
    parts = target.split(".")
    namespace = vars(sys.modules[module_name]) if module_name in sys.modules else None
    if namespace is not None and parts[0] in namespace:
        obj, name, rest = namespace[parts[0]], f"{module_name}.{parts[0]}", parts[1:]
    elif namespace is not None and hasattr(builtins, parts[0]):
        obj, name, rest = getattr(builtins, parts[0]), f"builtins.{parts[0]}", parts[1:]
    else:
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except Exception:  # noqa: BLE001 - any text can be a target; most are not modules
                continue
            name, rest = obj.__name__, parts[cut:]
            break
        else:
            return None
    name = _dotted_name(obj) or name
    for index, part in enumerate(rest):
        if not hasattr(obj, part):
            if index == len(rest) - 1 and part in _instance_attributes(obj):
                return f"{name}.{part}"
            return None
        obj = getattr(obj, part)
        name = _dotted_name(obj) or f"{name}.{part}"
    return name


def _instance_attributes(obj: Any) -> set[str]:
    """Attributes that instances of a class get in ``__init__``: its parameters (a dataclass's
    fields among them) and the attributes it annotates (``self.hashes: list[str] = ...``)."""
    if not inspect.isclass(obj):
        return set()
    try:
        names = set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        names = set()
    try:
        analyzer = ModuleAnalyzer.for_module(obj.__module__)
        analyzer.analyze()
    except Exception:  # noqa: BLE001 - no source (a builtin, a compiled module)
        return names
    return names | {name for (scope, name) in analyzer.annotations if scope == obj.__qualname__}


def _object_at(name: str) -> Any:
    """The object of a dotted name, imported; None if there is none."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # noqa: BLE001
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
        return obj
    return None


def _object_module(node: nodes.Node) -> str | None:
    """The module that defines the object whose description holds ``node``."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, addnodes.desc):
            for signature in parent.findall(addnodes.desc_signature):
                obj: Any = sys.modules.get(signature.get("module") or "")
                for part in (signature.get("fullname") or "").split("."):
                    obj = getattr(obj, part, None)
                module = getattr(obj, "__module__", None)
                if isinstance(module, str) and (inspect.isclass(obj) or inspect.isroutine(obj)):
                    return module
                break
        parent = parent.parent
    return None


def _through_aliases(domain: Any, name: str) -> str | None:
    """``name`` if documented, or the same member of the entry an aliased prefix of it points to."""
    if name in domain.objects:
        return name
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = domain.objects.get(".".join(parts[:cut]))
        if prefix is None or not prefix.aliased:
            continue
        for real, entry in domain.objects.items():
            if not entry.aliased and (entry.docname, entry.node_id) == (prefix.docname, prefix.node_id):
                member = ".".join([real, *parts[cut:]])
                return member if member in domain.objects else None
    return None


def resolve_by_definition(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.Node | None:
    """Resolves a Python reference the way Python resolves the name, then finds its entry.

    ``ArchSpec.to_data`` written in a module that imports ``ArchSpec``, ``gnnas.NAOController.load``
    and ``gnnas.search.oracle.Oracle.query`` all land on the entry of the documented object; a
    name that is another project's object (``Data``, ``np.ndarray``) becomes plain text, as
    nitpick_ignore makes its fully written form. A name that resolves to nothing documented stays
    a warning.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    targets = [f"{node['py:class']}.{target}", target] if node.get("py:class") else [target]
    domain = env.get_domain("py")
    for module in (_object_module(node), node.get("py:module"), None):
        name = next(filter(None, (defining_name(each, module) for each in targets)), None)
        if name is None:
            continue
        if name.partition(".")[0] != "gnnas":
            return contnode
        documented = _through_aliases(domain, name)
        owner, _, attribute = name.rpartition(".")
        if documented is None and attribute in _instance_attributes(_object_at(owner)):
            # An instance attribute, described in the class's docstring: link to the class.
            documented = _through_aliases(domain, owner)
        if documented is not None:
            entry = domain.objects[documented]
            builder, here = app.builder, node["refdoc"]
            return make_refnode(builder, here, entry.docname, entry.node_id, contnode, documented)
    return None


def public_modules(package: str = "gnnas") -> Iterator[ModuleType]:
    """The package and its public modules (no part of the name starts with ``_``, but ``__main__``).

    Args:
        package: the top-level package.

    Yields:
        ModuleType: each module, imported, in name order.
    """
    root = importlib.import_module(package)
    names = {package, *(info.name for info in pkgutil.walk_packages(root.__path__, f"{package}."))}
    for name in sorted(names):
        if all(part == "__main__" or not part.startswith("_") for part in name.split(".")[1:]):
            yield importlib.import_module(name)


def undocumented_names(domain: Any, package: str = "gnnas") -> list[str]:
    """The names of the ``__all__`` lists of a package's modules that the docs do not document.

    ``module.name`` is documented when the Python domain has an entry (or an alias) of that name,
    or, for a function or class defined outside the module (outside the package and its
    subpackages, for a package), when its defining name leads to one. A package's own names
    (``gnnas.search.Oracle``, defined in ``gnnas.search.oracle``) need their entry under the
    package.

    Args:
        domain: the Python domain (its ``objects``: entries by dotted name).
        package: the top-level package. (default: ``"gnnas"``)

    Returns:
        list[str]: ``module.name`` of each undocumented name (dunder names such as ``__version__``
        aside), in module order.
    """
    missing = []
    for module in public_modules(package):
        for name in getattr(module, "__all__", ()):
            dotted = f"{module.__name__}.{name}"
            if name.startswith("__") or dotted in domain.objects:
                continue
            defined = _dotted_name(getattr(module, name))
            own = defined is None or defined.startswith(f"{module.__name__}.")
            if own or _through_aliases(domain, defined) is None:
                missing.append(dotted)
    return missing


def check_public_names(app: Sphinx, env: BuildEnvironment) -> None:
    """Warns about every name of a gnnas ``__all__`` that no page documents."""
    for name in undocumented_names(env.get_domain("py")):
        logger.warning(f"{name} is public (in __all__) but no page documents it; add its module to "
                       "a page of docs/api with '.. gnnas-module::'", type="gnnas", subtype="undocumented")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("gnnas-module", ModuleDirective)
    app.add_directive("gnnas-reexports", ReexportsDirective)
    app.connect("missing-reference", resolve_by_definition, priority=600)
    app.connect("env-check-consistency", check_public_names)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
