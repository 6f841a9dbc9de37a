"""``python -m gnnas.pretrain`` is ``gnnas pretrain``: one parser, one run, the same errors."""

import argparse
import subprocess
import sys

import pytest

from gnnas.cli import build_parser as gnnas_parser
from gnnas.pretrain import PretrainConfig
from gnnas.pretrain.__main__ import build_parser, main
from gnnas.pretrain.command import settings_from_args


def test_the_module_has_the_flags_of_gnnas_pretrain():
    ours = build_parser()
    commands = next(a for a in gnnas_parser()._actions if isinstance(a, argparse._SubParsersAction))
    sub = commands.choices["pretrain"]

    def described(parser):
        return [(a.option_strings, a.dest, a.nargs, getattr(a.type, "__name__", a.type), a.choices, a.default,
                 a.help) for a in parser._actions
                if not isinstance(a, argparse._HelpAction)]

    assert described(ours) == described(sub)


def test_settings_from_a_config_file_and_flags(tmp_path):
    saved = tmp_path / "config.json"
    saved.write_text(PretrainConfig(loss="AngularLoss", lr=0.3, grad_clip=5.0).to_json())
    args = build_parser().parse_args([
        "--out", str(tmp_path), "--config", str(saved), "--iterations", "50",
        "--lr-milestones", "10", "20", "--grad-clip", "none", "--encoder", '{"hidden_channels": 32}',
        "--no-progress", "--lambda-e", "0.5"])
    settings = settings_from_args(args)
    fields = {k: v for k, v in settings.items() if k not in ("output_dir", "num_anchors", "threads")}
    assert PretrainConfig.from_dict(fields) == PretrainConfig(
        loss="AngularLoss", lr=0.3, max_iterations=50, lr_milestones=[10, 20],
        encoder={"hidden_channels": 32}, progress=False, lambda_e=0.5)
    assert settings["threads"] == 1 and settings["output_dir"] == str(tmp_path)


def test_old_spellings_warn_and_still_work(tmp_path, capsys):
    args = build_parser("python -m gnnas.pretrain").parse_args([
        "--output-dir", str(tmp_path), "--max-iterations", "50", "--checkpoint-interval", "7",
        "--progress", "false"])
    settings = settings_from_args(args)
    assert (settings["output_dir"], settings["max_iterations"], settings["checkpoint_interval"],
            settings["progress"]) == (str(tmp_path), 50, 7, False)
    err = capsys.readouterr().err.splitlines()
    assert err == [f"python -m gnnas.pretrain: warning: {old} is deprecated and will be removed; use {new}"
                   for old, new in (("--output-dir", "--out"), ("--max-iterations", "--iterations"),
                                    ("--checkpoint-interval", "--checkpoint-every"),
                                    ("--progress", "--no-progress"))]


def test_bad_flags(tmp_path, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--out", str(tmp_path), "--loss", "Margin"])
    assert "invalid choice: 'Margin'" in capsys.readouterr().err
    assert main(["--out", str(tmp_path), "--lr", "-1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m gnnas.pretrain: error: lr must be a finite number > 0")
    assert err.count("\n") == 1


def test_the_module_runs(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "gnnas.pretrain", "--loss", "NoMetricLoss", "--iterations", "2",
         "--batch-size", "16", "--num-anchors", "40", "--num-workers", "0", "--no-progress",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "pretrained 2 iterations with NoMetricLoss" in done.stdout
    assert {"command.json", "config.json", "controller.pt"} <= {p.name for p in out.iterdir()}
