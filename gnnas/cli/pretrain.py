"""``gnnas pretrain``: the command of :mod:`gnnas.pretrain.command` (also ``python -m gnnas.pretrain``)."""

from gnnas.pretrain.command import (  # noqa: F401  (the subcommand's name and texts)
    DESCRIPTION,
    HELP,
    NAME,
    add_arguments,
    build_parser,
    run,
    settings_from_args,
)

__all__ = ["add_arguments", "build_parser", "settings_from_args", "run"]
