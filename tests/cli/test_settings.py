import argparse
import json

import pytest

from gnnas.cli.settings import CLIError, add_setting, read_config_file, resolve_settings, save_command

DEFAULTS = {"lr": 1.0, "seed": 0, "loss": "MarginLoss", "milestones": [6000]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--config")
    add_setting(p, "--lr", key="lr", type=float, default=1.0, help="learning rate")
    add_setting(p, "--seed", key="seed", type=int, default=0, help="seed")
    add_setting(p, "--loss", key="loss", default="MarginLoss", help="loss")
    add_setting(p, "--milestones", key="milestones", type=int, nargs="*", default=[6000], help="milestones")
    return p


def test_defaults_are_shown_in_the_help():
    text = parser().format_help()
    assert "learning rate (default: 1.0)" in text and "(default: [6000])" in text


def test_defaults_then_file_then_flags(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"lr": 0.5, "seed": 3, "milestones": []}))
    args = parser().parse_args(["--config", str(config), "--seed", "7"])
    assert resolve_settings(args, DEFAULTS) == {"lr": 0.5, "seed": 7, "loss": "MarginLoss", "milestones": []}
    assert resolve_settings(parser().parse_args([]), DEFAULTS) == DEFAULTS


def test_a_saved_command_json_is_a_config_file(tmp_path):
    path = save_command(
        tmp_path / "run",
        "pretrain",
        {"lr": 0.25, "seed": 1, "loss": "NPairsLoss", "milestones": [5]},
        ["pretrain", "--lr", "0.25"],
    )
    record = json.loads(path.read_text())
    assert record["command"] == "pretrain" and record["argv"] == ["pretrain", "--lr", "0.25"]
    assert {"gnnas_version", "python", "created"} <= set(record)
    args = parser().parse_args(["--config", str(path)])
    assert resolve_settings(args, DEFAULTS) == {
        "lr": 0.25,
        "seed": 1,
        "loss": "NPairsLoss",
        "milestones": [5],
    }


def test_the_config_json_of_a_pretraining_run_is_a_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": {"lr": 0.1, "seed": 2}, "world_size": 1, "lambda_e": 1.0}))
    assert read_config_file(path) == {"lr": 0.1, "seed": 2}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "cannot read config file"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"lrr": 1}', "unknown setting 'lrr'"),
    ],
)
def test_bad_config_files(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CLIError, match=message):
        resolve_settings(parser().parse_args(["--config", str(path)]), DEFAULTS)


def test_paths_and_tuples_are_saved_as_json(tmp_path):
    path = save_command(tmp_path, "search", {"data": tmp_path / "t.csv", "seeds": (0, 1)}, [])
    assert json.loads(path.read_text())["settings"] == {"data": str(tmp_path / "t.csv"), "seeds": [0, 1]}
