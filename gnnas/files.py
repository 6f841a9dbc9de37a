r"""Files that gnnas writes and reads back: atomic, checksummed, and never running code on load.

Checkpoints (of pretraining and of search), saved controllers and results are written through
this module, which gives every one of them the same guarantees:

- **Atomic.** The new content goes to a temporary file in the same folder, is flushed to disk,
  and is then moved over the old file with :func:`os.replace`. A run killed while writing, or a
  full disk, leaves the previous version intact (a failed write raises :class:`WriteError` and
  removes its temporary file).
- **Checksummed.** Beside every file ``NAME`` lies ``NAME.sha256`` in the format of
  ``sha256sum`` (``<64 hex digits>  NAME``), so ``sha256sum -c NAME.sha256`` checks it too. A
  read verifies it first: a truncated, emptied or one-byte-flipped file, or a missing checksum,
  is a :class:`DamagedFileError` naming the file. (While a file is being replaced the checksum
  file lists the old and the new digest, so that a kill between the two renames leaves a pair
  that still verifies.)
- **Safe.** :func:`load_torch` uses ``torch.load(weights_only=True)``: a file can hold only
  tensors and plain containers, numbers and strings; one that names any other Python object is
  refused (:class:`DamagedFileError`) without building it, so loading never runs code or imports
  a module.

Example::

    >>> from gnnas.files import save_torch, load_torch
    >>> save_torch({"weights": torch.zeros(3), "step": 7}, "run/checkpoint.pt")   # + .sha256
    >>> load_torch("run/checkpoint.pt")["step"]
    7
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKSUM_SUFFIX",
    "DamagedFileError",
    "WriteError",
    "checksum_path",
    "write_bytes",
    "read_bytes",
    "save_torch",
    "load_torch",
    "save_json",
    "load_json",
    "remove",
]

#: Suffix of the checksum file that lies beside every file written by :func:`write_bytes`.
CHECKSUM_SUFFIX = ".sha256"

_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


class DamagedFileError(ValueError):
    """A file gnnas reads back is damaged, has no valid checksum, or is not of the expected kind.

    The message is one line that starts with the file's path.

    Args:
        path (str or os.PathLike): the file.
        reason (str): what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)


class WriteError(OSError):
    """A file could not be written (a full disk, no permission); its previous version is intact.

    Args:
        path (str or os.PathLike): the file.
        error (OSError): the error of the operating system.
    """

    def __init__(self, path: str | os.PathLike, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(error.errno, f"cannot write {os.fspath(path)}: {reason}; its previous version, "
                                      "if any, is intact")
        self.path = os.fspath(path)

    def __str__(self) -> str:
        return str(self.strerror)


def checksum_path(path: str | os.PathLike) -> Path:
    """Returns the checksum file of a file.

    Args:
        path (str or os.PathLike): the file.

    Returns:
        pathlib.Path: ``path`` with :data:`CHECKSUM_SUFFIX` appended to its name.
    """
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _replace_with(path: Path, data: bytes, sync: bool = True) -> None:
    """Writes ``data`` to a temporary file beside ``path``, syncs it to the disk (where a full disk
    shows at the latest) and renames it over ``path``."""
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if sync:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _listed_digests(path: Path) -> list[str] | None:
    """The digests that ``path``'s checksum file lists for it, or :obj:`None` if it has none."""
    try:
        text = checksum_path(path).read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedFileError(checksum_path(path), f"unreadable checksum file ({error})") from None
    digests = []
    for line in text.splitlines():
        match = _LINE.fullmatch(line)
        if match is None or match.group(2) != path.name:
            raise DamagedFileError(checksum_path(path), f"not a checksum file of {path.name} "
                                   "(expected lines '<sha256>  NAME')")
        digests.append(match.group(1))
    if not digests:
        raise DamagedFileError(checksum_path(path), "the checksum file is empty")
    return digests


def _current_digest(path: Path) -> str | None:
    """The digest of the file now at ``path`` if it verifies against its checksum file, else None
    (the file is read only when its checksum file lists more than one digest)."""
    if not path.is_file():
        return None
    try:
        digests = _listed_digests(path)
        if digests is None:
            return None
        if len(digests) == 1:
            return digests[0]
        current = _digest(path.read_bytes())
    except (DamagedFileError, OSError):
        return None
    return current if current in digests else None


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replaces ``path`` with ``data`` atomically and writes its checksum beside it.

    Args:
        path (str or os.PathLike): the file; its folder is created if needed.
        data (bytes): the new content.

    Raises:
        WriteError: if the disk is full or the folder not writable; the previous file and its
            checksum are left as they were.
    """
    path = Path(path)
    new = _digest(data)
    line = f"{new}  {path.name}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        old = _current_digest(path)
        old_line = f"{old}  {path.name}\n" if old is not None and old != new else None
        if old_line is not None:
            # first list both digests: a kill between the two renames then leaves a valid pair
            _replace_with(checksum_path(path), (line + old_line).encode("ascii"), sync=False)
        try:
            _replace_with(path, data)
        except OSError:
            if old_line is not None:  # the previous pair as it was
                _replace_with(checksum_path(path), old_line.encode("ascii"), sync=False)
            raise
        _replace_with(checksum_path(path), line.encode("ascii"), sync=False)
    except OSError as error:
        if isinstance(error, WriteError):
            raise
        raise WriteError(path, error) from None


def read_bytes(path: str | os.PathLike, sha256: str | None = None) -> bytes:
    """Reads a file written by :func:`write_bytes` and verifies its checksum.

    Args:
        path (str or os.PathLike): the file.
        sha256 (str, optional): the expected SHA-256 digest (hexadecimal), checked instead of the
            checksum file, for files whose digest is recorded elsewhere (such as the controllers
            shipped with gnnas). (default: :obj:`None`)

    Returns:
        bytes: the content.

    Raises:
        FileNotFoundError: if there is no such file.
        DamagedFileError: if ``path`` is a folder, if it has no checksum file beside it, or if
            its content does not match the checksum (a truncated, emptied or altered file).
    """
    path = Path(path)
    if path.is_dir():
        raise DamagedFileError(path, "is a folder, not a file")
    data = path.read_bytes()
    if sha256 is not None:
        if _digest(data) != sha256.lower():
            raise DamagedFileError(path, f"SHA-256 {_digest(data)} does not match the recorded {sha256} "
                                   f"({len(data):,} bytes): the file is truncated or damaged")
        return data
    digests = _listed_digests(path)
    if digests is None:
        raise DamagedFileError(
            path, f"no checksum file {checksum_path(path).name} beside it, so its integrity cannot be "
            "checked (written by an older gnnas, or copied without it); if you trust the file, create "
            f"one with: sha256sum {path.name} > {checksum_path(path).name}")
    if _digest(data) not in digests:
        raise DamagedFileError(
            path, f"the content does not match its checksum in {checksum_path(path).name} "
            f"({len(data):,} bytes): the file is truncated or damaged")
    return data


def remove(path: str | os.PathLike) -> None:
    """Removes a file written by :func:`write_bytes` and its checksum file (those that exist).

    Args:
        path (str or os.PathLike): the file.

    Raises:
        OSError: if one of them exists but cannot be removed.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


# ---------------------------------------------------------------------- torch files
def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """Saves tensors and plain containers with :func:`torch.save`, atomically and checksummed.

    Args:
        obj (Any): what to save: tensors, dicts, lists, tuples, numbers, strings, :obj:`None`
            (what :func:`load_torch` reads back).
        path (str or os.PathLike): the file.

    Raises:
        WriteError: as :func:`write_bytes`.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def load_torch(path: str | os.PathLike, map_location: Any = "cpu", sha256: str | None = None) -> Any:
    """Loads a file written by :func:`save_torch` after checking its checksum, without running code.

    Args:
        path (str or os.PathLike): the file.
        map_location (str or torch.device, optional): where to put the tensors.
            (default: :obj:`'cpu'`)
        sha256 (str, optional): the expected digest, instead of the checksum file (see
            :func:`read_bytes`). (default: :obj:`None`)

    Returns:
        Any: the saved object.

    Raises:
        FileNotFoundError: if there is no such file.
        DamagedFileError: if the checksum is missing or does not match, if the file is not a torch
            file, or if it holds anything but tensors and plain containers (such as a pickled
            object of an older gnnas, which is not built).
    """
    data = read_bytes(path, sha256)
    return _torch_from_bytes(path, data, map_location)


def _torch_from_bytes(path: str | os.PathLike, data: bytes, map_location: Any) -> Any:
    import torch

    try:
        with warnings.catch_warnings():  # e.g. about the pickle protocol of a foreign file
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "GLOBAL" in str(error):  # weights_only refused a global: never built, never imported
            raise DamagedFileError(
                path, "not a safe file: it names Python objects that loading would have to build or "
                "import (a pickle, or a checkpoint written by an older gnnas); it was not loaded") from None
        raise DamagedFileError(path, "not a torch file (unreadable content)") from None
    except (RuntimeError, EOFError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            UnicodeDecodeError, zipfile.BadZipFile, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DamagedFileError(path, f"not a readable torch file ({first[:200]})") from None


# ---------------------------------------------------------------------- JSON files
def save_json(value: Any, path: str | os.PathLike, indent: int | None = 1) -> None:
    """Writes ``value`` as JSON (with a final newline), atomically and checksummed.

    Args:
        value (Any): a JSON-serialisable value.
        path (str or os.PathLike): the file.
        indent (int, optional): the indentation of :func:`json.dumps`. (default: :obj:`1`)

    Raises:
        WriteError: as :func:`write_bytes`.
    """
    write_bytes(path, (json.dumps(value, indent=indent) + "\n").encode("utf-8"))


def load_json(path: str | os.PathLike) -> Any:
    """Reads a file written by :func:`save_json` after checking its checksum.

    Args:
        path (str or os.PathLike): the file.

    Returns:
        Any: the JSON value.

    Raises:
        FileNotFoundError: if there is no such file.
        DamagedFileError: if the checksum is missing or does not match, or the file is not JSON.
    """
    data = read_bytes(path)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedFileError(path, f"not valid JSON ({error})") from None
