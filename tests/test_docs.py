"""The API reference covers every module, and the command-line reference is made from the parsers.

The docs build itself (``sphinx-build -W`` with ``nitpicky = True``, in CI) checks that every
reference resolves; these tests check, without a build, what a build cannot notice: a module that
no page names, and a command or flag that the generated reference would miss.
"""

from __future__ import annotations

import argparse
import pkgutil
import re
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from gnnas_api import public_modules, undocumented_names  # noqa: E402
from gnnas_cli import argument_name, load_parser, subcommands, text_nodes  # noqa: E402
from sphinx.domains.python import ObjectEntry  # noqa: E402

import gnnas  # noqa: E402
from gnnas import flags  # noqa: E402
from gnnas.cli import settings  # noqa: E402
from gnnas.cli.main import build_parser  # noqa: E402


def documented_modules() -> set[str]:
    """The modules named by ``gnnas-module`` or ``automodule`` on the API pages."""
    pattern = re.compile(r"^\.\. (?:gnnas-module|automodule):: (\S+)", re.M)
    pages = (ROOT / "docs" / "api").glob("*.rst")
    return {name for page in pages for name in pattern.findall(page.read_text())}


def test_every_module_has_a_page() -> None:
    modules = {
        info.name
        for info in pkgutil.walk_packages(gnnas.__path__, "gnnas.")
        if not info.name.rpartition(".")[2].startswith("_") or info.name.endswith("__main__")
    } - {"gnnas.__main__"}  # ``python -m gnnas``: the gnnas command, on the command-line page
    missing = sorted(modules - documented_modules())
    assert not missing, f"modules no page of docs/api documents (add a '.. gnnas-module::'): {missing}"


def test_subcommands_are_the_commands_of_gnnas() -> None:
    parser = build_parser()
    names = [name for name, _, _ in subcommands(parser)]
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert names == list(action.choices)
    assert {"enumerate", "download", "convert", "pretrain", "search", "hash", "ged"} <= set(names)
    assert all(help_text for _, help_text, _ in subcommands(parser)), "a command without help"


def test_every_visible_flag_is_named() -> None:
    for _, _, sub in subcommands(build_parser()):
        formatter = sub._get_formatter()
        usage = sub.format_usage()
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            name = argument_name(action, formatter)
            if action.option_strings:
                assert name.startswith(action.option_strings[0]), (sub.prog, name)
                assert action.option_strings[0] in usage, (sub.prog, action.option_strings)
            else:
                assert name, (sub.prog, action.dest)


def test_load_parser_from_a_script_and_from_a_module() -> None:
    assert load_parser("gnnas.cli.main:build_parser", ROOT).prog == build_parser().prog
    script = load_parser("benchmarks/locality.py:build_parser", ROOT)
    assert isinstance(script, argparse.ArgumentParser)
    with pytest.raises(ValueError, match="MODULE:FUNCTION"):
        load_parser("gnnas.cli.main", ROOT)


def test_text_nodes_keep_examples_literal() -> None:
    text = "Runs a search.\nTwo lines of prose.\n\nexamples:\n  gnnas search --budget 10\n    --seeds 0 1\n"
    paragraphs = text_nodes(text)
    assert [type(node).__name__ for node in paragraphs] == ["paragraph", "paragraph", "literal_block"]
    assert paragraphs[0].astext() == "Runs a search. Two lines of prose."
    assert paragraphs[1].astext() == "examples:"
    assert paragraphs[2].astext() == "gnnas search --budget 10\n  --seeds 0 1"
    assert paragraphs[0]["support_smartquotes"] is False  # "--flag" is not turned into a dash


def every_public_name() -> dict[str, ObjectEntry]:
    """A Python domain's entries as if every ``module.name`` of every ``__all__`` were documented."""
    entry = ObjectEntry("api/page", "id", "function", aliased=False)
    return {f"{m.__name__}.{name}": entry for m in public_modules() for name in getattr(m, "__all__", ())}


def test_undocumented_names_wants_a_package_s_names_under_the_package() -> None:
    domain = types.SimpleNamespace(objects=every_public_name())
    assert undocumented_names(domain) == []
    del domain.objects["gnnas.search.Oracle"]  # gnnas.search.oracle.Oracle is not enough
    del domain.objects["gnnas.ArchSpec"]
    assert undocumented_names(domain) == ["gnnas.ArchSpec", "gnnas.search.Oracle"]


def test_undocumented_names_takes_a_borrowed_name_where_it_is_defined() -> None:
    domain = types.SimpleNamespace(objects=every_public_name())
    assert settings.CLIError is flags.CLIError
    del domain.objects["gnnas.cli.settings.CLIError"]  # borrowed from gnnas.flags: documented there
    assert undocumented_names(domain) == []
    del domain.objects["gnnas.flags.CLIError"]
    assert undocumented_names(domain) == ["gnnas.cli.settings.CLIError", "gnnas.flags.CLIError"]


def test_public_modules_leave_out_private_ones() -> None:
    names = [module.__name__ for module in public_modules()]
    assert names[0] == "gnnas" and "gnnas.pretrain.__main__" in names and "gnnas.search.oracle" in names
    assert not any(part.startswith("_") and part != "__main__" for name in names for part in name.split("."))
