r"""Reading and writing TFRecord files without TensorFlow.

A TFRecord file is a plain sequence of records, each framed as

1. the payload length, 8 bytes, unsigned little-endian;
2. the masked CRC-32C of those 8 bytes, 4 bytes little-endian;
3. the payload;
4. the masked CRC-32C of the payload, 4 bytes little-endian.

CRC-32C uses the Castagnoli polynomial (computed by the ``google-crc32c`` package); the mask is

.. math::
    \operatorname{mask}(c) = \big((c \gg 15) \mid (c \ll 17)\big) + \mathtt{0xa282ead8}
    \pmod{2^{32}}.

Both checksums are verified for every record; a damaged file raises :class:`TFRecordError`
naming the file and the byte offset of the bad record::

    >>> from gnnas.nasbench.tfrecord import TFRecordWriter, iter_tfrecord
    >>> with TFRecordWriter("/tmp/example.tfrecord") as writer:
    ...     writer.write(b"hello")
    >>> [(offset, payload) for offset, payload in iter_tfrecord("/tmp/example.tfrecord")]
    [(0, b'hello')]
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterable, Iterator
from types import TracebackType

import google_crc32c

__all__ = ["TFRecordError", "masked_crc32c", "iter_tfrecord", "TFRecordWriter", "write_tfrecord"]

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")


class TFRecordError(ValueError):
    """A TFRecord file (or one of its records) is damaged or not in the expected format.

    Args:
        path (str): the file.
        offset (int): byte offset of the first byte of the bad record.
        reason (str): what is wrong.

    Example:
        >>> from gnnas.nasbench import TFRecordError, iter_tfrecord, write_tfrecord
        >>> write_tfrecord("two.tfrecord", [b"hello", b"world"])
        2
        >>> with open("two.tfrecord", "rb") as file:
        ...     data = file.read()
        >>> with open("cut.tfrecord", "wb") as file:   # the last 3 bytes lost
        ...     _ = file.write(data[:-3])
        >>> try:
        ...     list(iter_tfrecord("cut.tfrecord"))
        ... except TFRecordError as error:
        ...     print(error.offset, error.reason[:16])
        21 truncated record
    """

    def __init__(self, path: str | os.PathLike, offset: int, reason: str) -> None:
        self.path = os.fspath(path)
        self.offset = offset
        self.reason = reason
        super().__init__(f"{self.path}: record at byte offset {offset}: {reason}")

    def __reduce__(self) -> tuple:  # keeps the error picklable across worker processes
        return (TFRecordError, (self.path, self.offset, self.reason))


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Returns the masked CRC-32C of ``data``, as stored in TFRecord files.

    Args:
        data (bytes, bytearray or memoryview): the bytes to checksum.

    Returns:
        int: the masked checksum, an unsigned 32-bit integer.
    """
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _open_buffer(path: str | os.PathLike) -> tuple[mmap.mmap | bytes, int]:
    """Memory-maps ``path`` read-only (an empty file gives ``b""``)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return b"", 0
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), size


def iter_tfrecord(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """Streams the records of a TFRecord file, checking both checksums of every record.

    The file is memory-mapped, so it is read in large pages by the operating system and never
    held in memory as a whole.

    Args:
        path (str or os.PathLike): the file.

    Yields:
        tuple[int, bytes]: the byte offset at which the record starts, and its payload.

    Raises:
        TFRecordError: if a record is truncated or a length or payload checksum does not match.
    """
    buffer, size = _open_buffer(path)
    value = google_crc32c.value
    position = 0
    try:
        while position < size:
            if size - position < 12:
                raise TFRecordError(path, position, f"truncated record: {size - position} bytes left, "
                                    "a record header needs 12")
            header = buffer[position:position + 8]
            length, stored = _HEADER.unpack_from(buffer, position)
            crc = value(header)
            if (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF != stored:
                raise TFRecordError(path, position,
                                    "bad length checksum (masked CRC-32C of the length field)")
            end = position + 12 + length
            if end + 4 > size:
                raise TFRecordError(path, position,
                                    f"truncated record: the header announces {length} payload bytes, "
                                    f"the file ends {size - position - 12} bytes after the header")
            payload = buffer[position + 12:end]
            crc = value(payload)
            stored = _FOOTER.unpack_from(buffer, end)[0]
            if (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF != stored:
                raise TFRecordError(path, position, "bad payload checksum (masked CRC-32C of the payload)")
            yield position, payload
            position = end + 4
    finally:
        if isinstance(buffer, mmap.mmap):
            buffer.close()


class TFRecordWriter:
    """Writes records in the TFRecord framing; a context manager.

    Args:
        path (str or os.PathLike): the file to create (an existing file is overwritten).

    Raises:
        OSError: if the file cannot be created.

    Example:
        >>> from gnnas.nasbench import TFRecordWriter, iter_tfrecord
        >>> with TFRecordWriter("two.tfrecord") as writer:
        ...     writer.write(b"hello")
        ...     writer.write(b"world")
        >>> list(iter_tfrecord("two.tfrecord"))       # (byte offset, payload), every CRC checked
        [(0, b'hello'), (21, b'world')]
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._handle = open(self.path, "wb")  # noqa: SIM115 - closed by close()/__exit__

    def write(self, payload: bytes) -> None:
        """Appends one record.

        Args:
            payload (bytes): the record's payload.
        """
        payload = bytes(payload)
        header = struct.pack("<Q", len(payload))
        self._handle.write(header + struct.pack("<I", masked_crc32c(header)) + payload
                           + struct.pack("<I", masked_crc32c(payload)))

    def close(self) -> None:
        """Flushes and closes the file."""
        self._handle.close()

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TFRecordWriter({self.path!r})"


def write_tfrecord(path: str | os.PathLike, payloads: Iterable[bytes]) -> int:
    """Writes ``payloads`` as a TFRecord file.

    Args:
        path (str or os.PathLike): the file to create (an existing file is overwritten).
        payloads (Iterable[bytes]): the records' payloads, in order.

    Returns:
        int: the number of records written.
    """
    count = 0
    with TFRecordWriter(path) as writer:
        for payload in payloads:
            writer.write(payload)
            count += 1
    return count
