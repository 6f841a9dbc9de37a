"""Files gnnas writes and reads back: atomic replacement, checksums, safe torch loading."""

import errno
import hashlib
import io
import os
import pickle
import random
import subprocess
import sys
import textwrap

import pytest
import torch

from gnnas.files import (
    DamagedFileError,
    WriteError,
    checksum_path,
    load_json,
    load_torch,
    read_bytes,
    remove,
    save_json,
    save_torch,
    write_bytes,
)


class Planted:
    """A pickle payload that would create a marker file if it were ever unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def sign(path):
    """Writes a valid checksum beside ``path`` (as a user who trusts the file would)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    checksum_path(path).write_text(f"{digest}  {path.name}\n")


def test_round_trip_and_checksum_file_format(tmp_path):
    path = tmp_path / "sub" / "state.pt"
    save_torch({"w": torch.arange(4.0), "step": 3, "name": "x", "log": [1.5, None]}, path)
    assert load_torch(path)["step"] == 3 and torch.equal(load_torch(path)["w"], torch.arange(4.0))
    line = checksum_path(path).read_text()
    assert line == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  state.pt\n"  # sha256sum format
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.pt", "state.pt.sha256"]
    save_json({"a": [1, 2]}, tmp_path / "r.json")
    assert load_json(tmp_path / "r.json") == {"a": [1, 2]}
    remove(tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists() and not checksum_path(tmp_path / "r.json").exists()


def test_every_flipped_byte_is_caught(tmp_path):
    path = tmp_path / "state.pt"
    save_torch({"w": torch.randn(50)}, path)
    data = path.read_bytes()
    for position in range(0, len(data), max(1, len(data) // 97)):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        path.write_bytes(bytes(flipped))
        with pytest.raises(DamagedFileError, match=f"^{path}: the content does not match its checksum"):
            load_torch(path)


@pytest.mark.parametrize("content", [b"", b"PK\x03", b"garbage\n" * 10, None])
def test_truncated_empty_garbage(tmp_path, content):
    path = tmp_path / "state.pt"
    save_torch({"w": torch.randn(50)}, path)
    path.write_bytes(path.read_bytes()[:100] if content is None else content)
    with pytest.raises(DamagedFileError, match="truncated or damaged") as caught:
        load_torch(path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))


def test_signed_garbage_and_foreign_content(tmp_path):
    path = tmp_path / "state.pt"
    for content, message in [
        (b"", "not a readable torch file"),
        (random.Random(0).randbytes(3000), "not a (readable )?torch file"),  # fixed bytes, same message
        (b"PK\x03\x04 not really a zip", "not a readable torch file"),
    ]:
        path.write_bytes(content)
        sign(path)
        with pytest.raises(DamagedFileError, match=message):
            load_torch(path)
    path.write_bytes(b"\xff\xfe not json")
    sign(path)
    with pytest.raises(DamagedFileError, match="not valid JSON"):
        load_json(path)


def test_missing_or_damaged_checksum_file(tmp_path):
    path = tmp_path / "state.pt"
    save_torch({"w": torch.zeros(2)}, path)
    checksum_path(path).unlink()
    with pytest.raises(DamagedFileError, match="no checksum file state.pt.sha256 beside it.*sha256sum"):
        load_torch(path)
    for text in ["", "abc  state.pt\n", f"{'0' * 64}  other.pt\n", "\xff"]:
        checksum_path(path).write_text(text, encoding="latin-1")
        with pytest.raises(DamagedFileError, match="state.pt.sha256"):
            load_torch(path)
    with pytest.raises(FileNotFoundError):
        load_torch(tmp_path / "missing.pt")
    with pytest.raises(DamagedFileError, match="is a folder"):
        read_bytes(tmp_path)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_planted_pickle_never_runs(tmp_path, legacy):
    marker = tmp_path / "marker"
    path = tmp_path / "state.pt"
    with open(path, "wb") as stream:
        torch.save({"controller": Planted(marker)}, stream, _use_new_zipfile_serialization=not legacy)
    sign(path)  # even with a valid checksum
    with pytest.raises(DamagedFileError, match="not a safe file.*it was not loaded"):
        load_torch(path)
    path.write_bytes(pickle.dumps(Planted(marker), protocol=2))
    sign(path)
    with pytest.raises(DamagedFileError):
        load_torch(path)
    assert not marker.exists()
    # the payload works: unpickling it for real would have created the marker
    pickle.loads(pickle.dumps(Planted(marker))).close()
    assert marker.exists()


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    save_torch({"step": 1}, path)
    before = path.read_bytes(), checksum_path(path).read_bytes()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(WriteError, match=f"^cannot write {path}: No space left on device; its previous"):
        save_torch({"step": 2}, path)
    monkeypatch.undo()
    assert (path.read_bytes(), checksum_path(path).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt", "state.pt.sha256"]  # no temporary
    assert load_torch(path) == {"step": 1}


def test_a_kill_between_the_renames_leaves_a_valid_pair(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    save_json({"step": 1}, path)
    real_replace = os.replace
    calls = []

    def killed_after_first_data_rename(source, target):
        real_replace(source, target)
        calls.append(os.fspath(target))
        if os.fspath(target) == os.fspath(path):
            raise KeyboardInterrupt  # killed right after the data file was replaced

    monkeypatch.setattr(os, "replace", killed_after_first_data_rename)
    with pytest.raises(KeyboardInterrupt):
        save_json({"step": 2}, path)
    monkeypatch.undo()
    assert calls == [os.fspath(checksum_path(path)), os.fspath(path)]
    assert load_json(path) == {"step": 2}  # the checksum file listed both digests


def test_real_file_size_limit_in_a_child_process(tmp_path):
    """A real write failure (the file-size limit of the process, EFBIG) behaves as a full disk."""
    import gnnas.files

    script = textwrap.dedent(
        f"""
        import importlib.util, resource, signal
        spec = importlib.util.spec_from_file_location("files", {gnnas.files.__file__!r})
        files = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(files)  # only this module: no torch to import
        files.write_bytes({str(tmp_path / "state.bin")!r}, b"previous")
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            files.write_bytes({str(tmp_path / "state.bin")!r}, bytes(100000))
        except files.WriteError as error:
            print("WriteError:", error)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("WriteError: cannot write") and "File too large" in done.stdout
    assert read_bytes(tmp_path / "state.bin") == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin", "state.bin.sha256"]


def test_write_bytes_rejects_nothing_and_overwrites_cleanly(tmp_path):
    path = tmp_path / "a.bin"
    for content in [b"one", b"", b"three" * 1000]:
        write_bytes(path, content)
        assert read_bytes(path) == content
        assert len(checksum_path(path).read_text().splitlines()) == 1
    assert io.BytesIO(read_bytes(path)).read(5) == b"three"
