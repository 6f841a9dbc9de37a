import json
import os
from pathlib import Path

from gnnas.space.enumerate import CELLS_UP_TO
from tests.cli.conftest import run_cli


def test_enumerate_prints_counts_and_the_cache(capsys, space):
    # the session's `space` fixture built the cache in $GNNAS_CACHE_DIR; the command reads it
    code, out, err = run_cli(capsys, "enumerate", "--json", "--no-progress")
    assert code == 0, err
    report = json.loads(out)
    assert report["num_cells"] == len(space) == 423_624
    assert report["matches_published_counts"] is True
    counts = space.counts_by_num_vertices()
    assert report["cells_per_num_vertices"] == {str(v): counts[v] for v in sorted(counts)}
    cache = Path(report["cache"])
    assert cache.is_file() and cache.parent == Path(os.environ["GNNAS_CACHE_DIR"]).absolute()
    assert report["source"] == "cache"


def test_enumerate_table(capsys, space):
    code, out, _ = run_cli(capsys, "enumerate", "--no-progress")
    assert code == 0
    assert "423,624 unique cells (read from the cache" in out
    assert "counts match the published ones" in out
    for size, total in CELLS_UP_TO.items():
        row = next(line for line in out.splitlines() if line.split()[:1] == [str(size)])
        assert row.split()[2] == f"{total:,}" == row.split()[3]


def test_enumerate_cache_dir_that_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "enumerate", "--cache-dir", blocker)
    assert code == 2 and err == f"gnnas: error: --cache-dir {str(blocker)!r} is a file, not a folder\n"
