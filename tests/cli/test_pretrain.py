import json

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
