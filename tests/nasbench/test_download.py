"""``download_nasbench`` and ``gnnas download`` against a real HTTP server on 127.0.0.1.

The server (``http.server`` in a thread) serves an official-format file written by the project's
writer; each test sets how it misbehaves: no Range support, a connection cut after some bytes,
a stall, an HTTP error, or a damaged byte.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from gnnas import NASBench101
from gnnas.nasbench import convert as convert_module
from gnnas.nasbench.download import (
    MIRROR_VARIABLE,
    OFFICIAL_URLS,
    DownloadError,
    download_nasbench,
    download_target,
    nasbench_url,
)
from gnnas.nasbench.tfrecord import iter_tfrecord

from .helpers import random_specs, write_synthetic

NAME = "nasbench_only108.tfrecord"


@dataclass
class Behaviour:
    """How the test server answers ``GET /nasbench_only108.tfrecord``."""

    data: bytes
    ranges: bool = True  # honour "Range: bytes=N-" with 206
    cut_at: int | None = None  # close the connection once the body reaches this byte ...
    cuts: int = 1  # ... in this many responses
    stall_at: int | None = None  # stop sending at this byte until the test ends
    status: int | None = None  # answer every request with this HTTP error
    ranges_seen: list = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        behaviour: Behaviour = self.server.behaviour
        requested = self.headers.get("Range")
        behaviour.ranges_seen.append(requested)
        if behaviour.status is not None or self.path != f"/{NAME}":
            self.send_error(behaviour.status or 404)
            return
        data, start = behaviour.data, 0
        if requested is not None and behaviour.ranges:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        end = len(data)
        if behaviour.cut_at is not None and behaviour.cuts > 0 and start < behaviour.cut_at:
            behaviour.cuts -= 1
            end = behaviour.cut_at
        if behaviour.stall_at is not None and start < behaviour.stall_at:
            self.wfile.write(data[start:behaviour.stall_at])
            self.wfile.flush()
            behaviour.release.wait(30)
            return
        self.wfile.write(data[start:end])  # a cut: the connection closes short of Content-Length

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> Path:
    """An official-format only-108 file of 40 cells, from the project's writer (about 50 KB)."""
    path = tmp_path_factory.mktemp("official") / NAME
    write_synthetic(path, random_specs(40, seed=12), "only108", seed=12)
    return path


@pytest.fixture
def server(official):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.behaviour = Behaviour(official.read_bytes())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/{NAME}"
    yield httpd
    httpd.behaviour.release.set()
    httpd.shutdown()
    httpd.server_close()


def fetch(server, tmp_path, **kwargs) -> Path:
    options = dict(url=server.url, folder=tmp_path / "d", cache_dir=tmp_path / "cache", progress=False,
                   timeout=5.0, retries=0)
    return download_nasbench(**{**options, **kwargs})


def assert_nothing_at(folder: Path) -> None:
    assert not (folder / NAME).exists()


def test_full_download_gives_the_same_bytes_converted(server, tmp_path, official, monkeypatch):
    path = fetch(server, tmp_path)
    assert path == tmp_path / "d" / NAME == download_target(server.url, tmp_path / "d")
    assert path.read_bytes() == official.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == [NAME]  # no .part left
    assert server.behaviour.ranges_seen == [None]
    reference = NASBench101.from_tfrecord(official, cache_dir=tmp_path / "reference", progress=False)
    # Converted during the download: loading it now never converts again.
    monkeypatch.setattr(convert_module, "convert_tfrecord", lambda *a, **k: pytest.fail("converted again"))
    table = NASBench101.from_tfrecord(path, cache_dir=tmp_path / "cache", progress=False)
    assert table.hashes.tolist() == reference.hashes.tolist()
    assert np.array_equal(table.metric_array(reduce=None), reference.metric_array(reduce=None))
    spec = reference.spec(reference.hashes[7])
    assert table.get_metrics_from_spec(spec)[1] == reference.get_metrics_from_spec(spec)[1]
    # A finished download is not fetched again.
    assert fetch(server, tmp_path) == path and server.behaviour.ranges_seen == [None]


def test_cut_transfer_resumes_where_it_stopped(server, tmp_path, official):
    size, half = len(server.behaviour.data), len(server.behaviour.data) // 2
    server.behaviour.cut_at = half
    message = f"interrupted at byte {half:,} of {size:,} .*run the same download again to resume"
    with pytest.raises(DownloadError, match=message) as raised:
        fetch(server, tmp_path)
    assert raised.value.offset == half and "\n" not in str(raised.value)
    assert_nothing_at(tmp_path / "d")
    assert (tmp_path / "d" / f"{NAME}.part").stat().st_size == half
    path = fetch(server, tmp_path)  # the next call asks for the rest only
    assert server.behaviour.ranges_seen == [None, f"bytes={half}-"]
    assert path.read_bytes() == official.read_bytes()


def test_cut_transfer_resumes_within_one_call(server, tmp_path, official):
    server.behaviour.cut_at, server.behaviour.cuts = 1000, 1
    path = fetch(server, tmp_path, retries=1)
    assert server.behaviour.ranges_seen == [None, "bytes=1000-"]
    assert path.read_bytes() == official.read_bytes()


def test_server_without_range_starts_over(server, tmp_path, official):
    half = len(server.behaviour.data) // 2
    server.behaviour.ranges, server.behaviour.cut_at = False, half
    with pytest.raises(DownloadError, match=f"interrupted at byte {half:,}"):
        fetch(server, tmp_path)
    path = fetch(server, tmp_path)  # asked to resume, the server sends everything: start over
    assert server.behaviour.ranges_seen == [None, f"bytes={half}-"]
    assert path.read_bytes() == official.read_bytes()


def test_a_finished_part_is_checked_and_kept(server, tmp_path, official):
    """Interrupted between the transfer and the rename: the server has nothing more (416)."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / f"{NAME}.part").write_bytes(official.read_bytes())
    path = fetch(server, tmp_path)
    assert server.behaviour.ranges_seen == [f"bytes={len(server.behaviour.data)}-"]
    assert path.read_bytes() == official.read_bytes()


def test_corrupted_byte_is_reported_and_nothing_is_kept(server, tmp_path, official):
    offsets = [offset for offset, _ in iter_tfrecord(official)]
    damaged = bytearray(server.behaviour.data)
    damaged[offsets[50] + 12 + 30] ^= 0x01  # a byte of the payload of record 50
    server.behaviour.data = bytes(damaged)
    message = f"record at byte offset {offsets[50]:,}: bad payload checksum"
    with pytest.raises(DownloadError, match=message) as raised:
        fetch(server, tmp_path)
    assert raised.value.offset == offsets[50] and "\n" not in str(raised.value)
    assert list((tmp_path / "d").iterdir()) == []  # neither the file nor the part


def test_http_error(server, tmp_path):
    server.behaviour.status = 404
    with pytest.raises(DownloadError, match=f"cannot download {re.escape(server.url)}: HTTP 404"):
        fetch(server, tmp_path, retries=2)  # an HTTP error is not retried
    assert len(server.behaviour.ranges_seen) == 1
    assert list((tmp_path / "d").iterdir()) == []


def test_stalled_server_times_out(server, tmp_path):
    half = len(server.behaviour.data) // 2
    server.behaviour.stall_at = half
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=f"interrupted at byte {half:,} .*\\(no data for 0.3 s\\)"):
        fetch(server, tmp_path, timeout=0.3)
    assert time.perf_counter() - start < 10
    assert_nothing_at(tmp_path / "d")
    assert (tmp_path / "d" / f"{NAME}.part").stat().st_size == half


def test_addresses(monkeypatch):
    monkeypatch.delenv(MIRROR_VARIABLE, raising=False)
    assert nasbench_url() == "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"
    assert nasbench_url("full") == OFFICIAL_URLS["full"]
    monkeypatch.setenv(MIRROR_VARIABLE, "http://mirror.example/nb101/")
    assert nasbench_url("full") == "http://mirror.example/nb101/nasbench_full.tfrecord"
    assert download_target("http://x/a/b%20c.tfrecord?x=1", "/tmp/d") == Path("/tmp/d/b c.tfrecord")
    with pytest.raises(ValueError, match="file must be one of"):
        nasbench_url("only12")
    for bad in ("http://host/", "ftp://host/file.tfrecord", "nasbench_only108.tfrecord"):
        with pytest.raises(ValueError, match="expected an http"):
            download_target(bad)


def test_command_line(server, tmp_path, capsys, official):
    from tests.cli.conftest import run_cli

    argv = ["download", "--url", server.url, "--dir", tmp_path / "d", "--cache-dir", tmp_path / "cache",
            "--no-progress", "--retries", "0", "--timeout", "5"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert (tmp_path / "d" / NAME).read_bytes() == official.read_bytes()
    assert "every record checked" in out and f"gnnas search --data {tmp_path / 'd' / NAME}" in out
    code, out, err = run_cli(capsys, *argv)
    assert code == 0 and "already downloaded" in out

    damaged = bytearray(server.behaviour.data)
    damaged[100] ^= 0xFF
    server.behaviour.data = bytes(damaged)
    code, out, err = run_cli(capsys, *argv[:4], tmp_path / "e", *argv[5:])
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gnnas: error: download of ")
    assert "record at byte offset 0:" in err
    assert not (tmp_path / "e" / NAME).exists()


@pytest.mark.parametrize("convert", [True, False])
def test_a_damaged_file_already_there_is_kept_and_named(server, tmp_path, capsys, official, convert):
    """A file at the final path that is damaged (put there by hand, or damaged since) is an error
    naming it; it is neither blamed on the server nor removed nor replaced."""
    from tests.cli.conftest import run_cli

    target = tmp_path / "d" / NAME
    target.parent.mkdir()
    damaged = bytearray(official.read_bytes())
    damaged[100] ^= 0xFF
    target.write_bytes(bytes(damaged))
    argv = ["download", "--url", server.url, "--dir", tmp_path / "d", "--cache-dir", tmp_path / "cache",
            "--no-progress", "--retries", "0", "--timeout", "5", *([] if convert else ["--no-convert"])]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"gnnas: error: {target} was already there") and "byte offset 0" in err, err
    assert target.read_bytes() == bytes(damaged)  # kept as it was
    assert server.behaviour.ranges_seen == []  # and not downloaded again
