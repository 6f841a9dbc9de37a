r"""Settings of a command: defaults, then a JSON config file, then flags; saved beside the results.

Every long-running subcommand (``pretrain``, ``search``) takes its settings from three places,
each overriding the one before:

1. the defaults of the command (shown in ``--help``);
2. ``--config FILE.json``: a JSON object of settings, or a ``command.json`` written by an earlier
   run (its ``"settings"`` entry is used);
3. the flags given on the command line.

The settings actually used are written as ``command.json`` into the output folder, with the
command line, the gnnas version and the time, so a result can always be traced back and rerun
(``gnnas pretrain --config results/pretrain/run/command.json``).

An output folder that already holds a run is never reused silently: without ``--resume`` or
``--overwrite`` the command refuses (:func:`check_output_dir`), and ``--resume`` refuses settings
that differ from the ones in the folder's ``command.json`` (:func:`check_same_settings`), which
is therefore never rewritten to claim settings that were not used.

The helpers live in :mod:`gnnas.flags` (which ``python -m gnnas.pretrain`` shares without
importing the command line); this module names them for the commands.
"""

from gnnas.flags import (
    COMMAND_FILE,
    CLIError,
    add_run_flags,
    add_setting,
    check_output_dir,
    check_same_settings,
    deprecated_flag,
    deprecated_name,
    field_docs,
    field_parser,
    folder_flag,
    optional,
    parse_bool,
    parse_json,
    read_config_file,
    remove_run_files,
    resolve_settings,
    save_command,
    set_threads,
    setting_differences,
)

__all__ = [
    "CLIError",
    "add_setting",
    "add_run_flags",
    "check_output_dir",
    "check_same_settings",
    "remove_run_files",
    "setting_differences",
    "resolve_settings",
    "read_config_file",
    "save_command",
    "set_threads",
    "COMMAND_FILE",
    "field_docs",
    "field_parser",
    "parse_bool",
    "parse_json",
    "optional",
    "deprecated_flag",
    "deprecated_name",
    "folder_flag",
]
