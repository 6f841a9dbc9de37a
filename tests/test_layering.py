"""The library does not import its command line: no module of gnnas/ outside gnnas/cli imports
gnnas.cli (``gnnas/__main__.py``, ``python -m gnnas``, is the command line's own entry point)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gnnas"
ENTRY_POINT = PACKAGE / "__main__.py"  # ``python -m gnnas`` is the gnnas command itself


def cli_imports(path: Path) -> list[str]:
    """``file:line: statement`` for every import of gnnas.cli (or of a name from it) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # a relative import: resolve it against the file's package
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                module = ".".join([*parts, module] if module else parts)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == "gnnas.cli" or name.startswith("gnnas.cli.") for name in names):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def library_modules() -> list[Path]:
    cli = PACKAGE / "cli"
    return sorted(p for p in PACKAGE.rglob("*.py") if cli not in p.parents and p != ENTRY_POINT)


def test_the_library_never_imports_the_cli():
    modules = library_modules()
    assert len(modules) > 50 and PACKAGE / "pretrain" / "__main__.py" in modules
    offenders = [line for path in modules for line in cli_imports(path)]
    assert offenders == []


@pytest.mark.parametrize("source", [
    "import gnnas.cli",
    "import gnnas.cli.settings as settings",
    "from gnnas.cli.settings import field_parser",
    "from gnnas import cli",
    "from gnnas.cli import main",
    "def f():\n    from gnnas.cli.search import load_table\n",
    "from ..cli import settings",
    "from ..cli.settings import parse_bool",
])
def test_the_check_finds_every_form(tmp_path, monkeypatch, source):
    module = PACKAGE / "pretrain" / "fake.py"  # a path inside the package, for relative imports
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert len(cli_imports(module)) == 1


@pytest.mark.parametrize("source", [
    "import gnnas.space", "from gnnas.flags import parse_bool", "from gnnas import clip",
    "from . import config", "import gnnas.client",
])
def test_the_check_passes_other_imports(monkeypatch, source):
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert cli_imports(PACKAGE / "pretrain" / "fake.py") == []
