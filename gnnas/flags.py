r"""Settings from the command line: config files, and flags from the fields of a config dataclass.

The settings of a run live in dataclasses (:class:`~gnnas.pretrain.PretrainConfig`, the search
configs); every command line that exposes them, ``gnnas pretrain``, ``gnnas search`` and
``python -m gnnas.pretrain``, reads ``--config`` files with :func:`read_config_file`, turns a
field into a flag with the helpers below and reports a mistake as a :class:`CLIError`::

    >>> import typing
    >>> from gnnas.flags import field_parser
    >>> kind, metavar = field_parser(typing.Optional[int])
    >>> kind("none"), kind("3"), metavar
    (None, 3, 'INT')
"""

from __future__ import annotations

import argparse
import json
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

__all__ = [
    "CLIError", "read_config_file", "field_docs", "field_parser", "parse_bool", "parse_json", "optional",
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


