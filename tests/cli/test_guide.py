"""Every ``gnnas`` command line of the user guide and the results page is valid for the parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from gnnas.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted([*DOCS.glob("guide/*.rst"), DOCS / "results.rst"])


def code_blocks(text: str) -> list[str]:
    """The bodies of the ``.. code-block:: bash`` directives of an rst page."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: bash\n\n((?:(?:   .*)?\n)+)", text, flags=re.M):
        blocks.append("\n".join(line[3:] for line in match.group(1).splitlines()))
    return blocks


def gnnas_commands(text: str) -> list[list[str]]:
    commands = []
    for block in code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if "gnnas" in words[:4] and words[0] in ("gnnas", "torchrun", "GNNAS_DEBUG=1"):
                commands.append(words[words.index("gnnas") + 1 :])
    return commands


def test_the_guide_has_commands():
    assert sum(len(gnnas_commands(page.read_text())) for page in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_command_lines_parse(page):
    parser = build_parser()
    for argv in gnnas_commands(page.read_text()):
        if argv and argv[0] in ("locality", "benchmark"):
            continue  # passed through to the scripts of benchmarks/ (tested in tests/benchmarks)
        if argv in (["--version"], ["--help"]):
            with pytest.raises(SystemExit) as stop:
                parser.parse_args(argv)
            assert stop.value.code == 0
            continue
        args = parser.parse_args(argv)
        assert args.command == argv[0]
