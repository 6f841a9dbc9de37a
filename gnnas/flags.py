r"""Settings from the command line: config files, flags, old spellings, and the run's folder.

The settings of a run live in dataclasses (:class:`~gnnas.pretrain.PretrainConfig`, the search
configs); every command line that exposes them, ``gnnas pretrain`` (which is ``python -m
gnnas.pretrain``), ``gnnas search`` and the benchmark scripts, builds its flags with these helpers:
a field becomes a flag (:func:`field_parser`, :func:`field_docs`, :func:`add_setting`), defaults,
a ``--config`` file and the flags merge into the settings (:func:`read_config_file`,
:func:`resolve_settings`), the settings are saved as ``command.json`` (:func:`save_command`), a
folder holding a run is never reused silently (:func:`check_output_dir`,
:func:`check_same_settings`), an old spelling keeps working for one version with a warning
(:func:`deprecated_flag`, :func:`deprecated_name`), and a mistake is a :class:`CLIError`. The
library may import this module; it never imports :mod:`gnnas.cli`::

    >>> import typing
    >>> from gnnas.flags import field_parser
    >>> kind, metavar = field_parser(typing.Optional[int])
    >>> kind("none"), kind("3"), metavar
    (None, 3, 'INT')
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gnnas.files import load_json, remove, save_json

__all__ = [
    "CLIError", "read_config_file", "field_docs", "field_parser", "parse_bool", "parse_json", "optional",
    "deprecated_flag", "deprecated_name", "plain", "DEFAULT_THREADS", "DEFAULT_PRETRAIN_LR",
    "COMMAND_FILE", "add_setting", "resolve_settings", "save_command", "add_run_flags", "check_output_dir",
    "remove_run_files", "setting_differences", "check_same_settings", "folder_flag", "check_range",
    "set_threads",
]


class CLIError(ValueError):
    """A mistake on the command line (a bad value, a missing file); printed without a traceback."""


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads the settings of a ``--config`` file.

    Args:
        path (str or os.PathLike): a JSON object of settings, a ``command.json`` written by a run
            (then its ``"settings"`` entry) or the ``config.json`` of a pretraining run (its
            ``"config"`` entry).

    Returns:
        dict: the settings.

    Raises:
        CLIError: if the file is missing, is not JSON, or holds no object.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        raise CLIError(f"config file {os.fspath(path)!r} is a folder, not a JSON file")
    if not file.is_file():
        raise CLIError(f"config file {os.fspath(path)!r} does not exist")
    try:
        data = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CLIError(f"cannot read config file {os.fspath(path)!r}: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "command" in data:
        data = data["settings"]  # a command.json written by gnnas
    elif isinstance(data, dict) and isinstance(data.get("config"), dict) and "world_size" in data:
        data = data["config"]  # a config.json written by gnnas.pretrain.pretrain
    if not isinstance(data, dict):
        raise CLIError(f"config file {os.fspath(path)!r} must hold a JSON object of settings")
    return data


def field_docs(cls: type) -> dict[str, str]:
    """The ``Args:`` descriptions of a dataclass's Google docstring, by field name, as plain text.

    Args:
        cls (type): the dataclass.

    Returns:
        dict[str, str]: one line of help per documented field (reST roles and defaults removed).
    """
    docs: dict[str, str] = {}
    text = cls.__doc__ or ""
    if "Args:" not in text:
        return docs
    current = None
    for line in text.split("Args:", 1)[1].splitlines():
        match = re.match(r"^\s{4,8}(\w+) \(([^)]*)\):\s*(.*)$", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(3)
        elif current and line.strip() and not re.match(r"^\s*\w+:\s*$", line):
            docs[current] += " " + line.strip()
        elif not line.strip():
            current = None
    cleaned = {}
    for name, doc in docs.items():
        doc = re.sub(r"\s*\(default:.*?\)\s*$", "", doc)
        doc = re.sub(r":(?:class|obj|math|meth|func|data|attr):`~?([^`]*)`", r"\1", doc)
        doc = doc.replace("``", "").replace("\\", "")
        cleaned[name] = doc.strip().rstrip(".")
    return cleaned


def plain(text: str) -> str:
    """A docstring as plain text for ``--help``: reStructuredText literals, roles and emphasis removed.

    A double-backquoted literal loses its backquotes, a role such as ``:class:`` keeps only the
    last part of its target, ``**x**`` becomes ``x``, and a paragraph ending in ``::`` ends in ``:``.

    Args:
        text (str): the docstring.

    Returns:
        str: the same text, line breaks kept.
    """
    text = re.sub(r":[\w:]+:`~([^`]*\.)?([^`.]*)`", r"\2", text)
    text = re.sub(r":[\w:]+:`([^`]*)`", r"\1", text)
    text = text.replace("``", "").replace("**", "")
    return re.sub(r"(\S)::$", r"\1:", re.sub(r"\s+::$", "", text, flags=re.M), flags=re.M)


def parse_bool(text: str) -> bool:
    """Reads a yes-or-no flag value for argparse.

    Args:
        text (str): ``true``/``false``, ``1``/``0``, ``yes``/``no`` or ``on``/``off``, in any case.

    Returns:
        bool: the value.

    Raises:
        argparse.ArgumentTypeError: for any other text.
    """
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_json(text: str) -> Any:
    """Reads a JSON value for argparse.

    Args:
        text (str): the flag's text.

    Returns:
        Any: the JSON value.

    Raises:
        argparse.ArgumentTypeError: if ``text`` is not JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected JSON, got {text!r} ({error})") from None


def optional(kind: Any) -> Any:
    """An argparse ``type`` that reads ``none`` as :obj:`None` and anything else with ``kind``.

    Args:
        kind (Callable[[str], Any]): the ``type`` of the other values, e.g. :class:`int`.

    Returns:
        Callable[[str], Any]: the new ``type``, named after ``kind`` (for argparse's messages).
    """

    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


def field_parser(annotation: Any) -> tuple[Any, str]:
    """An argparse ``type`` and a metavar for a dataclass field's type annotation.

    Args:
        annotation (Any): the resolved annotation (:func:`typing.get_type_hints`).

    Returns:
        tuple: ``(type, metavar)``: ``int``/``float``/``str`` (accepting ``none`` when the field is
        optional), :func:`parse_bool` for ``bool``, :func:`parse_json` for anything else.
    """
    base, nullable = annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        base = members[0] if len(members) == 1 else Any
    origin = typing.get_origin(base) or base
    if origin is bool:
        return parse_bool, "BOOL"
    if origin in (int, float, str):
        return (optional(origin) if nullable else origin), origin.__name__.upper()
    return parse_json, "JSON"




# ---------------------------------------------------------------------- old spellings
def deprecated_name(old: str, new: str, prog: str = "gnnas") -> None:
    """Prints the one-line warning for an old spelling that still works for one version.

    Args:
        old (str): the old spelling (a flag, a value or a config-file key), as the user wrote it.
        new (str): the spelling to use instead.
        prog (str, optional): the program named at the start of the line. (default: :obj:`"gnnas"`)
    """
    print(f"{prog}: warning: {old} is deprecated and will be removed; use {new}", file=sys.stderr, flush=True)


_WARNING_CLASSES: dict[type, type] = {}


def _warning_class(base: type) -> type:
    """An argparse action class that warns, then does what ``base`` does."""
    if base not in _WARNING_CLASSES:

        def __call__(self: Any, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                     option_string: str | None = None) -> None:
            deprecated_name(option_string or self.option_strings[0], self.deprecated_for, parser.prog)
            base.__call__(self, parser, namespace, values, option_string)

        name = f"Deprecated{base.__name__.lstrip('_')}"
        _WARNING_CLASSES[base] = type(name, (base,), {"__call__": __call__})
    return _WARNING_CLASSES[base]


def deprecated_flag(parser: argparse.ArgumentParser, old: str, new: str, **kwargs: Any) -> argparse.Action:
    """Adds ``old`` as a hidden, deprecated spelling of the flag ``new``.

    The old flag is left out of ``--help`` (its help is :data:`argparse.SUPPRESS`); given, it sets
    the same setting as ``new`` and prints ``PROG: warning: OLD is deprecated ...; use NEW``::

        >>> parser = argparse.ArgumentParser(prog="demo")
        >>> _ = parser.add_argument("--out", help="output folder")
        >>> _ = deprecated_flag(parser, "--output-dir", "--out")
        >>> parser.parse_args(["--output-dir", "runs"]).out  # doctest: +SKIP
        demo: warning: --output-dir is deprecated and will be removed; use --out
        'runs'

    Args:
        parser (argparse.ArgumentParser): the parser that has ``new``.
        old (str): the old option string, e.g. ``"--output-dir"``.
        new (str): the option string to use instead; without ``kwargs`` the old flag takes its
            value exactly as ``new`` does (same destination, ``nargs``, type and choices).
        **kwargs: the old flag's own :meth:`~argparse.ArgumentParser.add_argument` arguments
            instead, for an old flag whose value is written differently (``dest`` among them).

    Returns:
        argparse.Action: the hidden action; its ``deprecated_for`` attribute is ``new``.

    Raises:
        KeyError: if ``parser`` has no flag ``new`` (and no ``kwargs`` are given).
    """
    if kwargs:
        action = parser.add_argument(old, help=argparse.SUPPRESS, **kwargs)
    else:
        action = copy.copy(parser._option_string_actions[new])
        action.option_strings, action.help, action.required = [old], argparse.SUPPRESS, False
        parser._add_action(action)
    action.__class__ = _warning_class(type(action))
    action.deprecated_for = new  # type: ignore[attr-defined]
    return action


#: The torch threads of every command and benchmark script unless ``--threads`` says otherwise:
#: one. The small networks of gnnas run faster on one thread than on torch's default (one per
#: core), measured side by side (docs: the command line guide, "Threads").
DEFAULT_THREADS = 1

#: The learning rate of a pretraining run that a command starts when ``--pretrain-lr`` is not given:
#: the paper's 1.0 for SGD, 0.001 for Adam and AdamW.
DEFAULT_PRETRAIN_LR = {"sgd": 1.0, "adam": 1e-3, "adamw": 1e-3}


# ---------------------------------------------------------------------- settings of a run
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
        aliases (Mapping[str, str], optional): old names a config file may still use for a setting
            (``{"epochs": "nasbench_epochs"}``); each one used prints a deprecation warning.
            (default: :obj:`None`)

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
            if key != name:
                deprecated_name(f"setting {name!r} of config file {os.fspath(config)!r}", repr(key))
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
        gnnas.files.DamagedFileError: with ``resume``, naming a JSON file of the run that fails its
            checksum (even one the command would rewrite, such as ``summary.json``: a damaged
            file is named, never silently replaced).
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
    if resume:
        for name in sorted(found):
            if name.endswith(".json"):
                load_json(folder / name)


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
                        ignore: Sequence[str] = (),
                        translate: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Checks that a resumed run has the settings recorded in ``folder``'s ``command.json``.

    Args:
        folder (str or os.PathLike): the ``--out`` folder; nothing is checked if it has no
            ``command.json``.
        settings (Mapping[str, Any]): the settings of the resumed run.
        ignore (Sequence[str], optional): settings that may change on resume (such as the number
            of threads). (default: :obj:`()`)
        translate (Callable, optional): turns recorded settings written by an earlier version into
            today's names. (default: :obj:`None`)

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
    saved = translate(dict(record["settings"])) if translate is not None else record["settings"]
    changed = [(k, a, b) for k, a, b in setting_differences(saved, _jsonable(dict(settings)))
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


def check_range(flag: str, value: Any, low: int, high: int | None = None, why: str = "") -> int:
    """Checks that a size flag is an integer in ``[low, high]`` before any work starts.

    A count that is too small fails late and obscurely (an empty array deep in a computation), one
    that is too large runs for hours or exhausts memory; both are a one-line error here instead::

        >>> check_range("--pairs", 10, 1, 1000)
        10
        >>> check_range("--pairs", 0, 1, 1000, " (the pairs are held in memory)")
        Traceback (most recent call last):
        ...
        gnnas.flags.CLIError: --pairs must be an integer from 1 to 1,000 (the pairs are held in memory), got 0

    Args:
        flag (str): the flag's name, for the message.
        value (Any): its value.
        low (int): the smallest value allowed.
        high (int, optional): the largest value allowed; :obj:`None` for no upper bound.
            (default: :obj:`None`)
        why (str, optional): the reason for the bounds, appended to the message, e.g.
            ``" (each pair is held in memory)"``. (default: :obj:`""`)

    Returns:
        int: ``value``.

    Raises:
        CLIError: if ``value`` is not an integer (a :obj:`bool` is not) or lies outside the bounds.
    """
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or value < low or (high is not None and value > high):
        span = f">= {low:,}" if high is None else f"from {low:,} to {high:,}"
        raise CLIError(f"{flag} must be an integer {span}{why}, got {value!r}")
    return value


def set_threads(threads: int | None) -> None:
    """Sets the number of torch threads of this process; :obj:`None` leaves torch's default
    (every command passes :data:`DEFAULT_THREADS` unless ``--threads`` says otherwise).

    Args:
        threads (int, optional): the number of threads.

    Raises:
        CLIError: if ``threads`` is not a positive integer.
    """
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise CLIError(f"--threads must be a positive integer, got {threads!r}")
    import torch

    torch.set_num_threads(threads)
