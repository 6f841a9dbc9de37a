import pytest

from gnnas.pretrain import PretrainConfig
from gnnas.pretrain.__main__ import build_parser, config_from_args


def test_every_setting_is_a_flag(tmp_path):
    saved = tmp_path / "config.json"
    saved.write_text(PretrainConfig(loss="AngularLoss", lr=0.3, grad_clip=5.0).to_json())
    args = build_parser().parse_args([
        "--output-dir", str(tmp_path), "--config", str(saved), "--max-iterations", "50",
        "--lr-milestones", "10", "20", "--grad-clip", "none", "--encoder", '{"hidden_channels": 32}',
        "--progress", "false", "--lambda-e", "0.5"])
    config = config_from_args(args)
    assert config == PretrainConfig(loss="AngularLoss", lr=0.3, max_iterations=50, lr_milestones=[10, 20],
                                    encoder={"hidden_channels": 32}, progress=False, lambda_e=0.5)


def test_bad_flags(tmp_path, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--output-dir", str(tmp_path), "--loss", "Margin"])
    assert "invalid choice: 'Margin'" in capsys.readouterr().err
    args = build_parser().parse_args(["--output-dir", str(tmp_path), "--lr", "-1"])
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        config_from_args(args)
