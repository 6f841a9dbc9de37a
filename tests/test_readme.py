"""The README's tour runs as written, and its ``gnnas`` command lines are valid."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def command_lines(text: str) -> list[list[str]]:
    """The ``gnnas ...`` commands of the bash blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["gnnas"]:
                commands.append(words[1:])
    return commands


def test_the_tour_runs(tmp_path, monkeypatch):
    (code,) = blocks(section("A short tour"), "python")
    assert "from gnnas import ArchSpec, GraphEditAugment, NAOController" in code
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        exec(compile(code, str(README), "exec"), {"__name__": "readme_tour"})
    finally:
        torch.set_num_threads(threads)


def test_the_tour_command_lines_are_valid():
    from gnnas.cli import build_parser

    commands = command_lines(section("A short tour"))
    assert len(commands) >= 5
    parser = build_parser()
    for argv in commands:
        if argv[0] in ("locality", "benchmark"):
            continue  # passed through to benchmarks/*.py (their flags are tested in tests/benchmarks)
        args = parser.parse_args(argv)
        assert args.command == argv[0]


@pytest.mark.parametrize("title", ["Two commands"])
def test_the_two_commands_are_there(title):
    commands = blocks(section(title), "bash")
    assert len(commands) == 2
    assert commands[0].strip().endswith("pip install -e . && python benchmarks/locality.py")
    assert commands[1].strip().endswith('pip install -e ".[dev]" && python -m pytest -q')
