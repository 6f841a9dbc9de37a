r"""Downloading the official NAS-Bench-101 files, checked record by record.

:func:`download_nasbench` fetches ``nasbench_only108.tfrecord`` (about 499 MB) or
``nasbench_full.tfrecord`` (about 1.95 GB) from the official address (or a mirror), then
converts it once, so that ``NASBench101(path)`` loads in a fraction of a second::

    >>> from gnnas.nasbench import NASBench101
    >>> from gnnas.nasbench.download import download_nasbench
    >>> path = download_nasbench("only108")      # doctest: +SKIP
    >>> nasbench = NASBench101(path, seed=0)     # doctest: +SKIP

or ``gnnas download`` from the command line. How the transfer is made safe:

- the bytes go to ``NAME.part`` beside the final file, with a progress bar;
- an interrupted transfer continues where it stopped (an HTTP ``Range`` request), in the same
  call (``retries``) or the next; a server that ignores ``Range`` sends the whole file again,
  and the transfer restarts from the first byte;
- a server that sends nothing for ``timeout`` seconds ends the attempt (:class:`DownloadError`
  naming the byte reached);
- when the transfer is complete, :func:`~gnnas.nasbench.tfrecord.iter_tfrecord` checks the
  length and CRC-32C of every record; only then is ``NAME.part`` renamed to ``NAME``. A damaged
  file raises :class:`DownloadError` naming the byte offset of the first bad record, and is
  removed: nothing is left at the final path;
- a file already at the final path (only a checked download gets there) is not downloaded again
  (:func:`download_target` says where that is); it is checked again (by the conversion, or record
  by record without it), and a damaged one is an error that keeps it: it is never replaced or
  removed, since it may be a copy put there by hand.

The address: ``url``, else ``$GNNAS_NASBENCH_MIRROR`` followed by the file name (a mirror holding
the official files under their names), else :data:`OFFICIAL_URLS`. The file keeps the URL's name.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from gnnas.nasbench.tfrecord import TFRecordError, iter_tfrecord
from gnnas.space.enumerate import resolve_cache_dir

__all__ = ["OFFICIAL_URLS", "MIRROR_VARIABLE", "DownloadError", "download_nasbench", "nasbench_url",
           "download_target"]

#: The official addresses of the two NAS-Bench-101 files (google-research/nasbench).
OFFICIAL_URLS: dict[str, str] = {
    "only108": "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
    "full": "https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
}

#: Environment variable naming a mirror: a base URL under which the files keep their names.
MIRROR_VARIABLE = "GNNAS_NASBENCH_MIRROR"

_CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")


class DownloadError(OSError):
    """A download failed or arrived damaged; the message is one line naming the URL and the byte.

    Args:
        message (str): what went wrong.
        url (str): the address.
        offset (int, optional): the byte reached, or the offset of the first bad record.

    Example:
        A file whose last record is cut short is refused, and nothing is left behind:

        >>> from pathlib import Path
        >>> from gnnas.nasbench import write_tfrecord
        >>> from gnnas.nasbench.download import DownloadError, download_nasbench
        >>> _ = write_tfrecord("whole.tfrecord", [b"hello", b"world"])
        >>> _ = Path("cut.tfrecord").write_bytes(Path("whole.tfrecord").read_bytes()[:-3])
        >>> try:
        ...     download_nasbench(url=Path("cut.tfrecord").resolve().as_uri(), folder="downloads",
        ...                       convert=False, progress=False)
        ... except DownloadError as error:
        ...     print(error.offset, list(Path("downloads").iterdir()))
        21 []
    """

    def __init__(self, message: str, url: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.offset = offset

    def __str__(self) -> str:
        return str(self.args[0])


class _Interrupted(Exception):
    """An attempt ended early (connection lost, stalled); the partial file is kept for resuming."""

    def __init__(self, reason: str, offset: int, total: int | None) -> None:
        super().__init__(reason)
        self.reason, self.offset, self.total = reason, offset, total


def nasbench_url(file: str = "only108") -> str:
    """Returns the address of an official file: on ``$GNNAS_NASBENCH_MIRROR`` if set, else official.

    Args:
        file (str, optional): ``"only108"`` or ``"full"``. (default: :obj:`"only108"`)

    Returns:
        str: the URL.

    Raises:
        ValueError: if ``file`` is not one of the two.
    """
    if file not in OFFICIAL_URLS:
        raise ValueError(f"file must be one of {sorted(OFFICIAL_URLS)}, got {file!r}")
    mirror = os.environ.get(MIRROR_VARIABLE)
    if mirror:
        return mirror.rstrip("/") + "/" + OFFICIAL_URLS[file].rsplit("/", 1)[1]
    return OFFICIAL_URLS[file]


def download_target(url: str, folder: str | os.PathLike | None = None) -> Path:
    """Returns where :func:`download_nasbench` puts the file of ``url``: its name, in ``folder``.

    Args:
        url (str): the address; its last path component names the file.
        folder (str or os.PathLike, optional): the folder (default: the gnnas cache folder,
            :func:`~gnnas.nasbench.default_cache_dir`).

    Returns:
        pathlib.Path: the final path (``NAME.part`` beside it holds an unfinished transfer).

    Raises:
        ValueError: if ``url`` is not an http(s) or file URL ending in a file name.
    """
    parsed = urllib.parse.urlsplit(url)
    name = Path(urllib.parse.unquote(parsed.path)).name
    if parsed.scheme not in ("http", "https", "file") or not name:
        raise ValueError(f"expected an http(s) or file URL ending in a file name, got {url!r}")
    return resolve_cache_dir(folder) / name


def download_nasbench(file: str = "only108", url: str | None = None, folder: str | os.PathLike | None = None,
                      timeout: float = 60.0, retries: int = 3, convert: bool = True,
                      cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Downloads an official NAS-Bench-101 file, checks every record, and converts it once.

    Args:
        file (str, optional): ``"only108"`` (``nasbench_only108.tfrecord``) or ``"full"``
            (``nasbench_full.tfrecord``); ignored when ``url`` is given. (default: :obj:`"only108"`)
        url (str, optional): the address (default: :func:`nasbench_url`).
        folder (str or os.PathLike, optional): where the file goes, under the URL's file name
            (default: the gnnas cache folder, :func:`~gnnas.nasbench.default_cache_dir`).
        timeout (float, optional): seconds without data after which an attempt ends.
            (default: :obj:`60.0`)
        retries (int, optional): further attempts, each resuming where the last stopped, after
            an interrupted or stalled transfer (not after an HTTP error or a damaged file).
            (default: :obj:`3`)
        convert (bool, optional): convert the file into the cache of
            :meth:`~gnnas.nasbench.NASBench101.from_tfrecord`, so that loading it is instant.
            (default: :obj:`True`)
        cache_dir (str or os.PathLike, optional): the cache of the conversion (default: as
            :meth:`~gnnas.nasbench.NASBench101.from_tfrecord`).
        progress (bool, optional): progress bars for the transfer and the conversion.
            (default: :obj:`True`)

    Returns:
        pathlib.Path: the checked file.

    Raises:
        DownloadError: for an HTTP error, a transfer still incomplete after ``retries``, a
            stalled server, or a damaged file (naming the byte offset of the first bad record;
            a downloaded file is removed, one that was already at the final path is kept).
        ValueError: for a bad ``file``, ``url``, ``timeout`` or ``retries``.
    """
    url = nasbench_url(file) if url is None else url
    target = download_target(url, folder)
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if retries < 0:
        raise ValueError(f"retries must be at least 0, got {retries}")
    part = target.with_name(target.name + ".part")
    existed = target.exists()
    if existed and not convert:  # put there by an earlier download, or by hand: checked, never replaced
        try:
            for _ in iter_tfrecord(target):
                pass
        except TFRecordError as error:
            raise _damaged_existing(url, target, error) from None
    if not existed:  # only a checked download gets there
        target.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(retries + 1):
            try:
                _fetch(url, part, timeout, progress)
                break
            except _Interrupted as stop:
                if attempt == retries:
                    of = f" of {stop.total:,}" if stop.total is not None else ""
                    raise DownloadError(
                        f"download of {url} interrupted at byte {stop.offset:,}{of} ({stop.reason}); the "
                        f"partial file {part} is kept: run the same download again to resume",
                        url, stop.offset) from None
        _check(url, part, target)
        os.replace(part, target)
    if convert:
        from gnnas.nasbench.api import NASBench101

        try:
            NASBench101.from_tfrecord(target, cache_dir=cache_dir, progress=progress)
        except TFRecordError as error:  # checksums right, contents wrong: a damaged file all the same
            if existed:
                raise _damaged_existing(url, target, error) from None
            target.unlink(missing_ok=True)
            raise DownloadError(f"download of {url} is damaged: record at byte offset {error.offset:,}: "
                                f"{error.reason}; the file was removed", url, error.offset) from None
    return target


def _damaged_existing(url: str, target: Path, error: TFRecordError) -> DownloadError:
    """The error for a damaged file that was already at the final path: it is kept, not replaced."""
    return DownloadError(f"{target} was already there (so {url} was not downloaded) and is damaged: "
                         f"record at byte offset {error.offset:,}: {error.reason}; the file is kept: move "
                         "or delete it to download it again", url, error.offset)


def _fetch(url: str, part: Path, timeout: float, progress: bool) -> None:
    """One attempt: requests the bytes after those in ``part`` and appends them (or restarts)."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "gnnas (NAS-Bench-101 download)", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing after our last byte: the part is whole, or wrong
            match = _UNSATISFIED_RANGE.fullmatch(error.headers.get("Content-Range", ""))
            if match is not None and int(match.group(1)) == offset:
                return
            part.unlink()
            raise _Interrupted("the server refused to resume; starting again", 0, None) from None
        raise DownloadError(f"cannot download {url}: HTTP {error.code} {error.reason}", url) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise _Interrupted(f"no answer within {timeout:g} s", offset, None) from None
        if isinstance(reason, (ConnectionError, http.client.HTTPException)):
            raise _Interrupted(f"connection failed: {reason}", offset, None) from None
        raise DownloadError(f"cannot download {url}: {reason}", url) from None
    with response:
        total = _total_size(response)
        if response.status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                part.unlink()
                raise _Interrupted(f"the server resumed at the wrong byte "
                                   f"({response.headers.get('Content-Range')!r}); starting again", 0, total)
            mode = "ab"
        else:  # 200: the whole file (the server ignores Range): start again from the first byte
            offset, mode = 0, "wb"
        with open(part, mode) as handle, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                              unit_divisor=1024, disable=not progress,
                                              desc=f"downloading {part.name[:-5]}") as bar:
            read = getattr(response, "read1", response.read)  # read1: what has arrived, not a full chunk
            while True:
                try:
                    chunk = read(_CHUNK)
                except TimeoutError:
                    raise _Interrupted(f"no data for {timeout:g} s", offset, total) from None
                except (http.client.HTTPException, OSError) as error:
                    raise _Interrupted(f"connection lost: {type(error).__name__}", offset, total) from None
                if not chunk:
                    break
                handle.write(chunk)
                offset += len(chunk)
                bar.update(len(chunk))
    if total is not None and offset < total:
        raise _Interrupted("the server closed the connection", offset, total)


def _total_size(response: Any) -> int | None:
    """The size of the whole file, from Content-Range (206) or Content-Length (200), if known."""
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is not None and match.group(3) != "*":
            return int(match.group(3))
        return None
    length = response.headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


def _check(url: str, part: Path, target: Path) -> None:
    """Checks the length and CRC-32C of every record; a damaged file is removed."""
    try:
        for _ in iter_tfrecord(part):
            pass
    except TFRecordError as error:
        part.unlink(missing_ok=True)
        raise DownloadError(f"download of {url} is damaged: record at byte offset {error.offset:,}: "
                            f"{error.reason}; the file was removed and nothing was written to {target}",
                            url, error.offset) from None
    if part.stat().st_size == 0:
        part.unlink()
        raise DownloadError(f"download of {url} is empty; nothing was written to {target}", url, 0)
