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
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gnnas.files import load_json, remove, save_json
from gnnas.flags import CLIError, field_docs, field_parser, optional, parse_bool, parse_json, read_config_file

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
    "COMMAND_FILE",
    "field_docs",
    "field_parser",
    "parse_bool",
    "parse_json",
    "optional",
    "folder_flag",
]

#: Name of the file that records a run's command line and settings in its output folder.
COMMAND_FILE = "command.json"


def add_setting(
    parser: argparse.ArgumentParser | Any,
    *flags: str,
    key: str,
    default: Any,
    help: str,
    **kwargs: Any,
) -> None:
    """Adds a flag whose value enters the command's settings under ``key``.

    The flag leaves no attribute behind when it is not given (its argparse default is
    :data:`argparse.SUPPRESS`), so :func:`resolve_settings` can tell a given flag from a default.

    Args:
        parser (argparse.ArgumentParser): the parser or argument group.
        *flags (str): the option strings, e.g. ``"--iterations"``.
        key (str): the name of the setting.
        default (Any): the default, shown in the help (the value itself lives in the command's
            defaults).
        help (str): what the option does.
        **kwargs: further :meth:`argparse.ArgumentParser.add_argument` arguments.
    """
    shown = (
        "none" if default is None else json.dumps(default) if isinstance(default, (list, dict)) else default
    )
    suffix = "" if kwargs.get("action") in ("store_true", "store_false") else f" (default: {shown})"
    parser.add_argument(*flags, dest=key, default=argparse.SUPPRESS, help=help + suffix, **kwargs)


def resolve_settings(
    args: argparse.Namespace,
    defaults: Mapping[str, Any],
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Merges the defaults, the ``--config`` file (``args.config``) and the given flags.

    Args:
        args (argparse.Namespace): the parsed flags (settings added with :func:`add_setting`).
        defaults (Mapping[str, Any]): every setting of the command and its default.
        aliases (Mapping[str, str], optional): other names a config file may use for a setting
            (``{"max_iterations": "iterations"}``). (default: :obj:`None`)

    Returns:
        dict: the settings, with exactly the keys of ``defaults``.

    Raises:
        CLIError: if the config file names an unknown setting.
    """
    settings = dict(defaults)
    config = getattr(args, "config", None)
    if config is not None:
        from_file = read_config_file(config)
        for name, value in from_file.items():
            key = (aliases or {}).get(name, name)
            if key not in defaults:
                raise CLIError(
                    f"config file {config!r}: unknown setting {name!r}; "
                    f"expected names from {sorted(defaults)}"
                )
            settings[key] = value
    for key in defaults:
        if hasattr(args, key):
            settings[key] = getattr(args, key)
    return settings


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def save_command(
    folder: str | os.PathLike[str],
    command: str,
    settings: Mapping[str, Any],
    argv: Sequence[str] | None = None,
    **extra: Any,
) -> Path:
    """Writes ``command.json`` (command line, settings, versions, time) into ``folder``.

    Args:
        folder (str or os.PathLike): the output folder (created if needed).
        command (str): the subcommand, e.g. ``"pretrain"``.
        settings (Mapping[str, Any]): the settings used.
        argv (Sequence[str], optional): the command line. (default: :obj:`None`, ``sys.argv``)
        **extra: further JSON-ready entries.

    Returns:
        pathlib.Path: the file written.
    """
    import gnnas

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "command": command,
        "argv": list(sys.argv[1:] if argv is None else argv),
        "settings": _jsonable(dict(settings)),
        "gnnas_version": gnnas.__version__,
        "python": platform.python_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **{k: _jsonable(v) for k, v in extra.items()},
    }
    path = folder / COMMAND_FILE
    save_json(record, path, indent=2)
    return path


# ---------------------------------------------------------------------- output folders
def add_run_flags(parser: argparse.ArgumentParser | Any, what: str) -> None:
    """Adds ``--resume`` and ``--overwrite``, the two ways to use an output folder that holds a run.

    Args:
        parser (argparse.ArgumentParser): the parser or argument group.
        what (str): what ``--resume`` continues, for the help.
    """
    parser.add_argument(
        "--resume",
        action="store_true",
        help=f"continue {what} (a fresh start if --out holds none); settings must match the run's "
        "command.json",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the run that --out holds and start over (without it, or --resume, a folder "
        "holding a run is an error)",
    )


def check_output_dir(folder: str | os.PathLike[str], found: Sequence[str], resume: bool,
                     overwrite: bool) -> None:
    """Refuses to start a run that would destroy the one ``folder`` holds.

    Args:
        folder (str or os.PathLike): the ``--out`` folder.
        found (Sequence[str]): the names of the run's files that ``folder`` holds.
        resume (bool): ``--resume`` was given.
        overwrite (bool): ``--overwrite`` was given.

    Raises:
        CLIError: if both flags are given, if ``folder`` exists and is not a folder, or if it holds
            a run and neither flag is given.
    """
    if resume and overwrite:
        raise CLIError("--resume and --overwrite exclude each other: --resume continues the run in "
                       "--out, --overwrite deletes it")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"--out {os.fspath(folder)!r} exists and is not a folder")
    if found and not (resume or overwrite):
        shown = ", ".join(sorted(found)[:6]) + (", ..." if len(found) > 6 else "")
        raise CLIError(f"--out {os.fspath(folder)!r} already holds a run ({shown}); pass --resume to "
                       "continue it or --overwrite to delete it and start over")


def remove_run_files(folder: str | os.PathLike[str], names: Sequence[str]) -> None:
    """Deletes the run files ``names`` of ``folder`` and their checksum files (for ``--overwrite``).

    Args:
        folder (str or os.PathLike): the run's folder.
        names (Sequence[str]): the file names; those that do not exist are skipped.

    Raises:
        OSError: if a file exists but cannot be removed.
    """
    for name in names:
        remove(Path(folder) / name)


def _same(key: str, saved: Any, now: Any) -> bool:
    if key == "data" and isinstance(saved, str) and isinstance(now, str):
        return os.path.realpath(os.path.expanduser(saved)) == os.path.realpath(os.path.expanduser(now))
    return saved == now


def setting_differences(saved: Mapping[str, Any], now: Mapping[str, Any],
                 prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Lists the settings that differ between two records.

    Args:
        saved (Mapping[str, Any]): the recorded settings.
        now (Mapping[str, Any]): the settings now (JSON-ready).
        prefix (str, optional): prepended to the names. (default: :obj:`""`)

    Returns:
        list[tuple[str, Any, Any]]: ``(name, saved value, value now)`` for each difference, sorted
        by name; dictionaries are compared key by key (``options.population_size``).
    """
    out = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key), now.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += setting_differences(a, b, f"{prefix}{key}.")
        elif not _same(key, a, b):
            out.append((prefix + key, a, b))
    return out


def check_same_settings(folder: str | os.PathLike[str], settings: Mapping[str, Any],
                        ignore: Sequence[str] = ()) -> None:
    """Checks that a resumed run has the settings recorded in ``folder``'s ``command.json``.

    Args:
        folder (str or os.PathLike): the ``--out`` folder; nothing is checked if it has no
            ``command.json``.
        settings (Mapping[str, Any]): the settings of the resumed run.
        ignore (Sequence[str], optional): settings that may change on resume (such as the number
            of threads). (default: :obj:`()`)

    Raises:
        CLIError: naming every setting that differs.
        gnnas.files.DamagedFileError: if ``command.json`` is damaged or has no valid checksum.
    """
    path = Path(folder) / COMMAND_FILE
    if not path.is_file():
        return
    record = load_json(path)
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
        raise CLIError(f"{os.fspath(path)}: not a command.json written by gnnas")
    changed = [(k, a, b) for k, a, b in setting_differences(record["settings"], _jsonable(dict(settings)))
               if k.split(".")[0] not in ignore]
    if changed:
        shown = "; ".join(f"{k}: {json.dumps(a)} in the run, {json.dumps(b)} now" for k, a, b in changed)
        raise CLIError(f"cannot resume the run in {os.fspath(folder)!r} with other settings ({shown}); "
                       "give the run's settings, or --overwrite to start over")


def folder_flag(flag: str, value: str | None) -> Path | None:
    """The folder a flag such as ``--cache-dir`` names (``~`` expanded), :obj:`None` if not given.

    Args:
        flag (str): the flag's name, for messages.
        value (str, optional): the flag's value.

    Returns:
        pathlib.Path or None: the folder (not created), or :obj:`None` if ``value`` is.

    Raises:
        CLIError: if the value is empty (it would silently mean the working folder) or names a
            file.
    """
    if value is None:
        return None
    if not value.strip():
        raise CLIError(f"{flag} must name a folder, got an empty string")
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"{flag} {value!r} is a file, not a folder")
    return folder


def set_threads(threads: int | None) -> None:
    """Sets the number of torch threads of this process; :obj:`None` leaves torch's default.

    Raises:
        CLIError: if ``threads`` is not a positive integer.
    """
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise CLIError(f"--threads must be a positive integer, got {threads!r}")
    import torch

    torch.set_num_threads(threads)
