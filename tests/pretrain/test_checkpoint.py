"""Pretraining checkpoints: never run code, catch damage, never destroy a run, survive a full disk."""

import errno
import hashlib
import os

import pytest
import torch

from gnnas.files import DamagedFileError, WriteError, checksum_path
from gnnas.pretrain import PretrainConfig, load_checkpoint, pretrain

from .helpers import tiny_setup


def tiny_config(**changes):
    values = dict(loss="NoMetricLoss", batch_size=16, num_positives=3, lr=0.5, device="cpu", progress=False,
                  max_iterations=4, checkpoint_interval=2)
    values.update(changes)
    return PretrainConfig(**values)


def run(folder, **kwargs):
    controller, dataset = tiny_setup(seed=1)
    config = kwargs.pop("config", tiny_config())
    return pretrain(config, controller=controller, dataset=dataset, output_dir=folder, **kwargs)


class Planted:
    """Unpickling this creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_does_not_run_on_resume(tmp_path):
    run(tmp_path)
    marker = tmp_path / "marker"
    path = tmp_path / "checkpoint.pt"
    state = load_checkpoint(path)
    state["log"].append(Planted(marker))
    torch.save(state, path)
    checksum_path(path).write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  checkpoint.pt\n")
    with pytest.raises(DamagedFileError, match="checkpoint.pt: not a safe file"):
        run(tmp_path, config=tiny_config(max_iterations=6), resume=True)
    assert not marker.exists()


def test_a_flipped_byte_is_caught_on_resume(tmp_path):
    run(tmp_path)
    path = tmp_path / "checkpoint.pt"
    content = bytearray(path.read_bytes())
    content[-200] ^= 0x01  # inside the stored weights
    path.write_bytes(bytes(content))
    with pytest.raises(DamagedFileError, match="checkpoint.pt: the content does not match its checksum"):
        run(tmp_path, config=tiny_config(max_iterations=6), resume=True)
    path.write_bytes(bytes(content[:1000]))
    with pytest.raises(DamagedFileError, match="truncated or damaged"):
        run(tmp_path, config=tiny_config(max_iterations=6), resume=True)


def test_a_checkpoint_that_is_no_checkpoint(tmp_path):
    run(tmp_path)
    path = tmp_path / "checkpoint.pt"
    from gnnas.files import save_torch

    for content, message in [({"a": 1}, "not a pretraining checkpoint"), ([1, 2], "not a pretraining")]:
        save_torch(content, path)
        with pytest.raises(DamagedFileError, match=message):
            run(tmp_path, config=tiny_config(max_iterations=6), resume=True)


def test_weights_that_do_not_fit_the_run(tmp_path):
    run(tmp_path)
    path = tmp_path / "checkpoint.pt"
    from gnnas.files import save_torch

    state = load_checkpoint(path)
    state["controller"] = {"nonsense": torch.zeros(3)}
    save_torch(state, path)
    with pytest.raises(DamagedFileError, match="checkpoint.pt: does not fit this run"):
        run(tmp_path, config=tiny_config(max_iterations=6), resume=True)


def test_a_run_is_never_destroyed_without_overwrite(tmp_path):
    run(tmp_path)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match="already holds a pretraining run .*checkpoint.pt"):
        run(tmp_path)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    with pytest.raises(ValueError, match="exclude each other"):
        run(tmp_path, resume=True, overwrite=True)
    # a finished run without a checkpoint to resume from
    (tmp_path / "checkpoint.pt").unlink()
    with pytest.raises(ValueError, match="finished run's controller.pt but no checkpoint.pt"):
        run(tmp_path, resume=True)
    result = run(tmp_path, config=tiny_config(max_iterations=2), overwrite=True)
    assert len(result.history) == 2 and load_checkpoint(tmp_path / "checkpoint.pt")["iteration"] == 2
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        run(tmp_path / "file")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name an open file")
def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import gnnas.files

    run(tmp_path)  # checkpoint at iteration 4
    before = (tmp_path / "checkpoint.pt").read_bytes()
    real_fsync = os.fsync

    def full_for_checkpoints(fd):  # the disk fills up as the next checkpoint is written
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith("checkpoint.pt."):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(gnnas.files.os, "fsync", full_for_checkpoints)
    with pytest.raises(WriteError, match="cannot write .*checkpoint.pt: No space left on device"):
        run(tmp_path, config=tiny_config(max_iterations=8), resume=True)
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert load_checkpoint(tmp_path / "checkpoint.pt")["iteration"] == 4
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(run(tmp_path, config=tiny_config(max_iterations=8), resume=True).history) == 8
