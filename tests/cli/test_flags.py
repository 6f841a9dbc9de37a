"""One command language: every flag of every parser (the gnnas subcommands, ``python -m
gnnas.pretrain`` and each ``benchmarks/*.py`` script) spells each concept one way, has a plain-text
help, and keeps its old spellings only as hidden aliases that warn and set the same setting."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from gnnas.cli import build_parser
from gnnas.flags import DEFAULT_THREADS

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.stem.startswith("_"))

#: Old spellings and the one to use instead. An old spelling may only exist as a hidden alias.
FORBIDDEN = {
    "--output-dir": "--out",
    "--output": "--out",
    "--results": "--out",
    "--max-iterations": "--iterations",
    "--checkpoint-interval": "--checkpoint-every",
    "--log-interval": "--log-every",
    "--decode-interval": "--decode-every",
    "--losses": "--loss",
    "--preset": "--loss",
    "--throughput-losses": "--throughput-loss",
    "--clip": "--grad-clip",
    "--progress": "--no-progress",
}
#: Any visible flag of these forms is an old spelling too.
FORBIDDEN_FORMS = (r"-interval$", r"-losses$", r"-output-dir$", r"^--num-iterations$")
#: reStructuredText in a help text: literals, roles, emphasis, literal-block markers, links.
MARKUP = re.compile(r"``|`[^`\s][^`]*`|:\w+:`|\*\*|::\s*$|`_", re.M)


def _script_parser(path: Path) -> argparse.ArgumentParser:
    name = f"gnnas_flags_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    assert callable(getattr(module, "build_parser", None)), f"{path.name} has no build_parser()"
    parser = module.build_parser()
    parser.prog = f"benchmarks/{path.name}"
    return parser


def all_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser by program name: ``gnnas COMMAND``, ``python -m gnnas.pretrain``, each script."""
    from gnnas.pretrain.__main__ import build_parser as module_parser

    parsers = {}
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers.update({sub.prog: sub for sub in action.choices.values()})
    parsers["python -m gnnas.pretrain"] = module_parser()
    for path in SCRIPTS:
        parsers[f"benchmarks/{path.name}"] = _script_parser(path)
    return parsers


PARSERS = all_parsers()


def flags(parser: argparse.ArgumentParser, hidden: bool = False) -> list[tuple[str, argparse.Action]]:
    """``(option string, action)`` of every visible (or every hidden) flag."""
    return [(option, action) for action in parser._actions for option in action.option_strings
            if (action.help == argparse.SUPPRESS) == hidden and not isinstance(action, argparse._HelpAction)]


def visible_flags():
    return [(prog, option, action) for prog, parser in PARSERS.items() for option, action in flags(parser)]


def test_every_parser_is_collected():
    assert {"gnnas pretrain", "gnnas search", "python -m gnnas.pretrain", "benchmarks/search.py",
            "benchmarks/locality.py", "benchmarks/predictor.py"} <= set(PARSERS)
    assert len(PARSERS) >= 9 + 1 + len(SCRIPTS) - 2  # locality and benchmark only pass arguments on


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_one_spelling_per_concept(prog):
    wrong = []
    for option, _ in flags(PARSERS[prog]):
        if option in FORBIDDEN:
            wrong.append(f"{option} (use {FORBIDDEN[option]})")
        elif any(re.search(form, option) for form in FORBIDDEN_FORMS):
            wrong.append(option)
    assert not wrong, f"{prog}: {wrong}"


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_flag_has_a_plain_help(prog):
    parser = PARSERS[prog]
    missing = [option for option, action in flags(parser) if not (action.help or "").strip()]
    assert not missing, f"{prog}: flags without a help text: {missing}"
    texts = [parser.description or "", parser.epilog or ""]
    texts += [parser._get_formatter()._expand_help(action) for _, action in flags(parser)]
    texts += [group.title or "" for group in parser._action_groups]
    marked = [match.group(0) for text in texts for match in MARKUP.finditer(text)]
    assert not marked, f"{prog}: reStructuredText in the help: {marked[:8]}"


def test_a_preset_is_named_by_loss():
    from gnnas.pretrain import PRESET_NAMES

    presets = set(PRESET_NAMES) | {"all"}
    for prog, option, action in visible_flags():
        names_presets = bool(action.choices) and set(action.choices) <= presets
        names_presets |= bool(re.search(r"\bpresets?\b", action.help or "")) and action.nargs != 0 and (
            action.metavar in ("LOSS", "PRESET") or "--loss" in option)
        if names_presets:
            assert option == "--loss" or option.endswith("-loss"), (prog, option)


def test_seeds_are_always_a_list():
    found = [(prog, action) for prog, option, action in visible_flags() if option == "--seeds"]
    assert len(found) >= 3
    for prog, action in found:
        assert action.nargs in ("+", "*") and action.type is int, prog


def test_threads_are_one_count_with_one_default():
    found = [(prog, action) for prog, option, action in visible_flags() if option == "--threads"]
    assert len(found) >= 6
    for prog, action in found:
        assert action.nargs is None and action.type is int, prog
        assert f"(default: {DEFAULT_THREADS})" in action.help, (prog, action.help)


def test_workers_are_one_count():
    found = [(prog, action) for prog, option, action in visible_flags() if option == "--workers"]
    assert len(found) >= 2
    for prog, action in found:
        assert action.nargs is None and action.type is int, prog


def test_one_meaning_per_flag():
    """Flags whose meaning flipped between commands now have one meaning (or distinct names)."""
    from gnnas.pretrain.config import OPTIMIZERS
    from gnnas.search import SEARCHES

    for prog, option, action in visible_flags():
        if option == "--epochs":  # passes over the anchors, only where a command pretrains
            assert "pass" in action.help and "anchor" in action.help, prog
        if option == "--pretrain-iterations":  # none: the paper's 2 epochs (shipped); 0: untrained
            assert "0" in action.help and "untrained" in action.help, (prog, action.help)
        if option == "--pretrain-optimizer":
            assert list(action.choices) == list(OPTIMIZERS), prog
            assert "(default: sgd" in action.help, (prog, action.help)
        if option == "--method":
            assert set(action.choices) == set(SEARCHES), prog
        if option == "--controller":  # a saved controller, never a preset (that is --loss)
            assert "preset" not in action.help.replace("--loss", ""), (prog, action.help)


def test_hidden_aliases_set_the_canonical_setting(capsys):
    checked = 0
    for prog, parser in PARSERS.items():
        canonical = dict(flags(parser))
        for option, action in flags(parser, hidden=True):
            new = getattr(action, "deprecated_for", None)
            assert new is not None, f"{prog}: hidden flag {option} is not a deprecated alias"
            assert new in canonical, f"{prog}: {option} stands for {new}, which it does not have"
            if option in FORBIDDEN:
                assert FORBIDDEN[option] == new or new.endswith(FORBIDDEN[option].lstrip("-")), (prog, option)
            assert action.dest == canonical[new].dest, (prog, option, action.dest, canonical[new].dest)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("prog, old, new, value", [
    ("gnnas pretrain", "--max-iterations", "--iterations", ["5"]),
    ("gnnas pretrain", "--output-dir", "--out", ["x"]),
    ("gnnas pretrain", "--checkpoint-interval", "--checkpoint-every", ["7"]),
    ("python -m gnnas.pretrain", "--output-dir", "--out", ["x"]),
    ("benchmarks/pretrain.py", "--losses", "--loss", ["MarginLoss", "AngularLoss"]),
    ("benchmarks/pretrain.py", "--output-dir", "--out", ["x"]),
    ("benchmarks/ged_speed.py", "--output", "--out", ["x"]),
    ("benchmarks/search.py", "--iterations", "--pretrain-iterations", ["300"]),
])
def test_an_old_spelling_warns_and_parses_as_the_new_one(capsys, prog, old, new, value):
    parser = PARSERS[prog]
    assert vars(parser.parse_args([old, *value])) == vars(parser.parse_args([new, *value]))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{old} is deprecated" in err and f"use {new}" in err


def test_old_search_names_warn_and_mean_the_new_ones(tmp_path, capsys):
    from gnnas.cli.search import settings_from_args

    parser = PARSERS["gnnas search"]
    config = tmp_path / "old.json"
    config.write_text('{"method": "evolution", "epochs": 108, "options": {"population_size": 5}}')
    args = parser.parse_args(["--config", str(config), "--out", str(tmp_path / "a")])
    settings = settings_from_args(args)
    assert settings["method"] == "regularized_evolution" and settings["nasbench_epochs"] == 108
    err = capsys.readouterr().err
    assert "setting 'epochs'" in err and "use 'nasbench_epochs'" in err
    assert "use 'regularized_evolution'" in err
    args = parser.parse_args(["--method", "nao", "--controller", "MarginLoss", "--out", str(tmp_path / "b")])
    settings = settings_from_args(args)
    assert (settings["loss"], settings["controller"]) == ("MarginLoss", "fresh")
    err = capsys.readouterr().err
    assert "--controller MarginLoss is deprecated and will be removed; use --loss MarginLoss" in err
    args = parser.parse_args(["--method", "local", "--out", str(tmp_path / "c")])
    assert settings_from_args(args)["method"] == "local_search"
    assert capsys.readouterr().err.count("\n") == 1


def test_resuming_a_run_recorded_under_the_old_names(tmp_path, capsys):
    """A command.json written before the renames (method 'evolution', key 'epochs') still resumes."""
    from gnnas.cli.search import settings_from_args
    from gnnas.flags import save_command

    parser = PARSERS["gnnas search"]
    args = parser.parse_args(["--method", "regularized_evolution", "--out", str(tmp_path)])
    settings = settings_from_args(args)
    old = {("epochs" if k == "nasbench_epochs" else k): v for k, v in settings.items() if k != "loss"}
    old["method"] = "evolution"
    save_command(tmp_path, "search", old, [])
    args = parser.parse_args(["--method", "regularized_evolution", "--out", str(tmp_path), "--resume"])
    assert settings_from_args(args)["method"] == "regularized_evolution"
