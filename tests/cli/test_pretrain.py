import hashlib
import json
import os

import pytest
import torch

from gnnas import NAOController
from tests.cli.conftest import run_cli

TINY = ["--batch-size", "16", "--num-anchors", "16", "--no-progress", "--log-every", "1"]


def test_pretrain_a_few_iterations_then_resume(capsys, tmp_path, space):
    out = tmp_path / "run"
    code, text, err = run_cli(
        capsys,
        "pretrain",
        "--loss",
        "TripletMarginLoss",
        "--iterations",
        "2",
        "--checkpoint-every",
        "1",
        "--seed",
        "3",
        "--out",
        out,
        *TINY,
    )
    assert code == 0, err
    assert "pretrained 2 iterations with TripletMarginLoss" in text
    for name in (
        "command.json",
        "config.json",
        "log.jsonl",
        "summary.json",
        "checkpoint.pt",
        "controller.pt",
    ):
        assert (out / name).is_file(), name
    record = json.loads((out / "command.json").read_text())
    settings = record["settings"]
    assert record["command"] == "pretrain" and record["argv"][:3] == [
        "pretrain",
        "--loss",
        "TripletMarginLoss",
    ]
    assert settings["loss"] == "TripletMarginLoss" and settings["max_iterations"] == 2
    assert settings["seed"] == 3 and settings["batch_size"] == 16 and settings["num_anchors"] == 16
    assert settings["checkpoint_interval"] == 1 and settings["output_dir"] == str(out)
    library = json.loads((out / "config.json").read_text())["config"]
    assert library["loss"] == "TripletMarginLoss" and library["max_iterations"] == 2 and library["seed"] == 3
    assert len((out / "log.jsonl").read_text().splitlines()) == 2
    NAOController.load(out / "controller.pt")

    # --resume takes the settings from OUT/command.json; a flag still overrides them
    code, text, err = run_cli(capsys, "pretrain", "--out", out, "--resume", "--iterations", "3")
    assert code == 0, err
    assert "pretrained 3 iterations with TripletMarginLoss" in text
    assert [json.loads(line)["iteration"] for line in (out / "log.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
    ]
    assert json.loads((out / "command.json").read_text())["settings"]["max_iterations"] == 3


def test_pretrain_from_a_config_file_with_flags_winning(capsys, tmp_path, space):
    config = tmp_path / "pretrain.json"
    config.write_text(
        json.dumps(
            {
                "loss": "NoMetricLoss",
                "max_iterations": 1,
                "seed": 5,
                "lr": 0.5,
                "encoder": {"hidden_channels": 16, "out_channels": 8},
            }
        )
    )
    out = tmp_path / "run"
    code, text, err = run_cli(capsys, "pretrain", "--config", config, "--seed", "6", "--out", out, *TINY)
    assert code == 0, err
    settings = json.loads((out / "command.json").read_text())["settings"]
    assert settings["loss"] == "NoMetricLoss" and settings["lr"] == 0.5 and settings["max_iterations"] == 1
    assert settings["seed"] == 6 and settings["encoder"] == {"hidden_channels": 16, "out_channels": 8}
    assert "pretrained 1 iterations with NoMetricLoss" in text


def test_pretrain_bad_config_and_anchors(capsys, tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"los": "MarginLoss"}))
    code, _, err = run_cli(capsys, "pretrain", "--config", config)
    assert code == 2 and "unknown setting 'los'" in err
    code, _, err = run_cli(capsys, "pretrain", "--num-anchors", "1", "--out", tmp_path / "x")
    assert code == 2 and "--num-anchors must be an integer >= 2" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "pretrain", "--out", blocker)
    assert code == 2 and "exists and is not a folder" in err


def one_line_error(code, err, *parts):
    assert code == 2 and err.startswith("gnnas: error: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, (part, err)


def files_of(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_pretraining_run_is_never_destroyed_and_resumes_only_its_settings(capsys, tmp_path, space):
    out = tmp_path / "run"
    argv = ["pretrain", "--loss", "NoMetricLoss", "--iterations", "2", "--checkpoint-every", "1",
            "--out", out, *TINY]
    assert run_cli(capsys, *argv)[0] == 0
    before = files_of(out)
    for extra in [[], ["--iterations", "3"], ["--loss", "MarginLoss"]]:
        one_line_error(*run_cli(capsys, *argv, *extra)[::2], "already holds a run", "checkpoint.pt",
                       "--resume", "--overwrite")
        assert files_of(out) == before
    for extra, named in [
        (["--lr", "0.5"], "lr: 1.0 in the run, 0.5 now"),
        (["--loss", "MarginLoss"], "loss"),
        (["--num-anchors", "20"], "num_anchors: 16 in the run, 20 now"),
        (["--encoder", '{"hidden_channels": 16}'], "encoder"),
        (["--seed", "4"], "seed"),
        (["--batch-size", "32"], "batch_size"),
    ]:
        one_line_error(*run_cli(capsys, *argv, *extra, "--resume")[::2], "cannot resume", named)
        assert files_of(out) == before  # nothing rewritten, command.json included
    # command.json gone: the checkpoint's own settings still guard the resume
    (out / "command.json").unlink()
    (out / "command.json.sha256").unlink()
    one_line_error(*run_cli(capsys, *argv, "--lr", "0.5", "--resume")[::2],
                   "cannot resume: settings ['lr'] differ from the checkpoint's")
    assert not (out / "command.json").exists()
    # longer is fine, and so are runtime settings
    code, text, err = run_cli(capsys, *argv, "--iterations", "3", "--threads", "1", "--resume")
    assert code == 0 and "pretrained 3 iterations" in text, err
    one_line_error(*run_cli(capsys, *argv, "--resume", "--overwrite")[::2], "exclude each other")
    code, text, err = run_cli(capsys, *argv, "--iterations", "1", "--overwrite")
    assert code == 0 and "pretrained 1 iterations" in text, err
    assert len((out / "log.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    "damage", ["flip", "truncate", "empty", "garbage", "no checksum", "pickle", "folder"]
)
def test_a_damaged_checkpoint_is_one_line(capsys, tmp_path, space, damage):
    out = tmp_path / "run"
    argv = ["pretrain", "--loss", "NoMetricLoss", "--iterations", "2", "--checkpoint-every", "1",
            "--out", out, *TINY]
    assert run_cli(capsys, *argv)[0] == 0
    path = out / "checkpoint.pt"
    content = path.read_bytes()
    marker = tmp_path / "marker"
    message = "the content does not match its checksum"
    if damage == "flip":
        path.write_bytes(content[:-100] + bytes([content[-100] ^ 0x80]) + content[-99:])
    elif damage == "truncate":
        path.write_bytes(content[:-1])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "no checksum":
        path.with_name("checkpoint.pt.sha256").unlink()
        message = "no checksum file checkpoint.pt.sha256"
    elif damage == "pickle":
        torch.save({"controller": Planted(marker)}, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        path.with_name("checkpoint.pt.sha256").write_text(f"{digest}  checkpoint.pt\n")
        message = "not a safe file"
    else:
        path.unlink()
        path.mkdir()
        message = "is a folder"
    code, _, err = run_cli(capsys, *argv, "--iterations", "3", "--resume")
    one_line_error(code, err, f"{path}: {message}")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["summary.json", "config.json", "command.json"])
def test_a_damaged_results_file_is_named_not_rewritten(capsys, tmp_path, space, name):
    out = tmp_path / "run"
    argv = ["pretrain", "--loss", "NoMetricLoss", "--iterations", "2", "--checkpoint-every", "1",
            "--out", out, *TINY]
    assert run_cli(capsys, *argv)[0] == 0
    path = out / name
    content = path.read_bytes()
    path.write_bytes(content[:20] + bytes([content[20] ^ 1]) + content[21:])
    before = files_of(out)
    code, _, err = run_cli(capsys, *argv, "--iterations", "3", "--resume")
    one_line_error(code, err, f"{path}: the content does not match its checksum")
    assert files_of(out) == before


class Planted:
    """Unpickling this creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))
