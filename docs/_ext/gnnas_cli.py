"""The command-line reference, generated from the argparse parsers themselves.

``.. gnnas-argparse:: gnnas.cli.main:build_parser`` imports the function, builds the parser and
writes, for the command and each subcommand, a section with the usage line, the description and
every argument with its help text, as ``--help`` prints them (``%(default)s`` expanded, hidden
aliases left out). With ``:commands:`` it writes only the table of subcommands. ``:prog:`` sets the
program name (for a script run through ``gnnas benchmark``). Help texts are plain text: they are
never parsed as reStructuredText; indented blocks (examples) become literal blocks.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

_WIDTH = "88"  # columns of the usage lines


def load_parser(spec: str, root: Path) -> argparse.ArgumentParser:
    """Builds a parser from ``module:function`` or ``path/to/script.py:function``.

    Args:
        spec: where the parser builder is; a path is relative to ``root``.
        root: the repository root.

    Returns:
        argparse.ArgumentParser: what the function returns.

    Raises:
        ValueError: if ``spec`` has no ``:function`` part.
    """
    where, _, function = spec.partition(":")
    if not function:
        raise ValueError(f"expected MODULE:FUNCTION or PATH.py:FUNCTION, got {spec!r}")
    if where.endswith(".py"):
        path = root / where
        name = f"gnnas_docs_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # dataclasses look their module up by name
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, function)()


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """The subcommands of a parser: name, help and parser of each, in the order they were added.

    Args:
        parser: the parser.

    Returns:
        list[tuple[str, str, argparse.ArgumentParser]]: empty if it has no subcommands.
    """
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            found += [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return found


def plain(text: str) -> nodes.paragraph:
    """A paragraph of plain text, kept as written: no smart quotes, so ``--flag`` stays two hyphens."""
    return nodes.paragraph("", text, support_smartquotes=False)


def text_nodes(text: str) -> list[nodes.Node]:
    """Plain text as paragraphs; indented lines (examples) as literal blocks.

    Args:
        text: a description or epilog, as argparse prints it.

    Returns:
        list[nodes.Node]: the paragraphs and literal blocks.
    """
    result: list[nodes.Node] = []
    prose: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if prose:
            result.append(plain(" ".join(prose)))
            prose.clear()
        if literal:
            block = "\n".join(literal).rstrip()
            indent = min(len(line) - len(line.lstrip()) for line in literal if line.strip())
            block = "\n".join(line[indent:] for line in block.split("\n"))
            result.append(nodes.literal_block(block, block))
            literal.clear()

    for line in text.strip("\n").split("\n"):
        if not line.strip():
            if literal:
                literal.append("")
            else:
                flush()
        elif line[0].isspace():
            if prose:
                flush()
            literal.append(line)
        else:
            if literal:
                flush()
            prose.append(line.strip())
    flush()
    return result


def argument_name(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """An argument as the help's left column shows it: ``--budget INT`` or ``ARGS``."""
    if not action.option_strings:
        return formatter._metavar_formatter(action, action.dest)(1)[0]
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    arguments = formatter._format_args(action, action.dest.upper())
    return ", ".join(f"{option} {arguments}" for option in action.option_strings)


class ArgparseDirective(SphinxDirective):
    """``.. gnnas-argparse:: MODULE:FUNCTION``: the reference of a command, from its parser."""

    required_arguments = 1
    option_spec = {"prog": directives.unchanged_required, "commands": directives.flag}

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir).parent
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = _WIDTH
        try:
            parser = load_parser(self.arguments[0], root)
            if "prog" in self.options:
                parser.prog = self.options["prog"]
            if "commands" in self.options:
                return [self.command_table(parser)]
            return self.command(parser)
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved

    def command_table(self, parser: argparse.ArgumentParser) -> nodes.Node:
        """A two-column table: each subcommand (linked to its section) and its help."""
        table = nodes.table()
        group = nodes.tgroup(cols=2)
        table += group
        group += [nodes.colspec(colwidth=30), nodes.colspec(colwidth=70)]
        body = nodes.tbody()
        for _, help_text, sub in subcommands(parser):
            link = nodes.reference("", "", internal=True, refid=self.section_id(sub.prog))
            link += nodes.literal(sub.prog, sub.prog)
            row = nodes.row()
            row += nodes.entry("", nodes.paragraph("", "", link))
            row += nodes.entry("", plain(help_text))
            body += row
        group += body
        return table

    @staticmethod
    def section_id(prog: str) -> str:
        return nodes.make_id(f"command {prog}")

    def command(self, parser: argparse.ArgumentParser) -> list[nodes.Node]:
        """The usage, description and arguments of a parser, then a section per subcommand."""
        formatter = parser._get_formatter()
        usage = parser.format_usage().strip()
        content: list[nodes.Node] = [nodes.literal_block(usage, usage)]
        if parser.description:
            content += text_nodes(parser.description)
        for group in parser._action_groups:
            actions = [
                action
                for action in group._group_actions
                if action.help != argparse.SUPPRESS and not isinstance(action, argparse._SubParsersAction)
            ]
            if not actions:
                continue
            items = nodes.definition_list()
            for action in actions:
                item = nodes.definition_list_item()
                term = argument_name(action, formatter)
                item += nodes.term("", "", nodes.literal(term, term))
                help_text = formatter._expand_help(action) if action.help else ""
                item += nodes.definition("", *text_nodes(help_text))
                items += item
            content += [nodes.rubric("", group.title or "arguments"), items]
        if parser.epilog:
            content += text_nodes(parser.epilog)
        return [*content, *(self.section(sub.prog, self.command(sub)) for _, _, sub in subcommands(parser))]

    def section(self, prog: str, content: list[nodes.Node]) -> nodes.section:
        section = nodes.section(ids=[self.section_id(prog)], names=[nodes.fully_normalize_name(prog)])
        section += nodes.title(prog, "", nodes.literal(prog, prog))
        section += content
        self.state.document.note_implicit_target(section, section)
        return section


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("gnnas-argparse", ArgparseDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
