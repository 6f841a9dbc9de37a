"""Command line: ``python -m gnnas.pretrain`` (also under ``torchrun --nproc_per_node=N``).

Every :class:`~gnnas.pretrain.PretrainConfig` setting is a flag (``--max-iterations 2000``,
``--lr-milestones 6000``, ``--encoder '{"hidden_channels": 64}'``); ``--config FILE`` starts from
a saved ``config.json``; ``--resume`` continues the run in ``--output-dir`` from its checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import typing
from collections.abc import Sequence

from gnnas.flags import field_parser, parse_bool, read_config_file
from gnnas.pretrain.config import PretrainConfig
from gnnas.pretrain.presets import PRESET_NAMES


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser: one flag per :class:`PretrainConfig` field, plus the run's folder."""
    parser = argparse.ArgumentParser(
        prog="python -m gnnas.pretrain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output-dir", required=True, help="folder for config, log, checkpoints, controller")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.pt")
    parser.add_argument("--overwrite", action="store_true", help="replace the run OUTPUT_DIR holds")
    parser.add_argument("--config", help="start from the settings of a config.json written by a run")
    parser.add_argument(
        "--num-anchors",
        type=int,
        default=None,
        help="use this many anchors drawn (with --seed) from the space instead of all",
    )
    defaults = PretrainConfig()
    hints = typing.get_type_hints(PretrainConfig)
    for spec in dataclasses.fields(PretrainConfig):
        flag = "--" + spec.name.replace("_", "-")
        default = getattr(defaults, spec.name)
        kwargs: dict[str, object] = {"default": argparse.SUPPRESS, "dest": spec.name}  # only flags given
        if spec.name == "loss":
            kwargs.update(choices=[*PRESET_NAMES], help=f"metric loss preset (default: {default})")
        elif spec.name in ("encoder", "decoder"):
            kwargs.update(type=json.loads, help=f"JSON keyword arguments of the {spec.name}")
        elif spec.name == "lr_milestones":
            kwargs.update(type=int, nargs="*", help=f"iterations of the lr decay (default: {default})")
        elif spec.name == "progress":
            kwargs.update(type=parse_bool, help="show the progress bar (default: true)")
        else:
            kwargs.update(type=field_parser(hints[spec.name])[0], help=f"(default: {default})")
        parser.add_argument(flag, **kwargs)
    return parser


def config_from_args(args: argparse.Namespace) -> PretrainConfig:
    """Builds the config: ``--config``'s settings, then every flag given.

    Raises:
        ValueError: on settings out of range.
    """
    values = {}
    if args.config:
        values.update(read_config_file(args.config))
    for spec in dataclasses.fields(PretrainConfig):
        if hasattr(args, spec.name):
            values[spec.name] = getattr(args, spec.name)
    return PretrainConfig.from_dict(values)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the flags and runs :func:`~gnnas.pretrain.pretrain`; a user's mistake (a bad value, a
    folder holding another run, a damaged checkpoint) exits with one line on standard error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _run(args)
    except (ValueError, OSError) as error:
        if os.environ.get("GNNAS_DEBUG"):
            raise
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def _run(args: argparse.Namespace) -> None:
    config = config_from_args(args)
    cells = None
    if args.num_anchors is not None:
        from gnnas.space import sample_cells

        cells = sample_cells(args.num_anchors, seed=config.seed)
    from gnnas.pretrain.trainer import pretrain

    result = pretrain(config, cells=cells, output_dir=args.output_dir, resume=args.resume,
                      overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(result.summary, indent=2))


if __name__ == "__main__":
    main()
