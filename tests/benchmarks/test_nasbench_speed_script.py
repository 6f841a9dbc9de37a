"""benchmarks/nasbench_speed.py refuses sizes it cannot make, in one line."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "nasbench_speed.py"


def load_script():
    spec = importlib.util.spec_from_file_location("nasbench_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, message", [
    (["--records", "0"], "--records must be between 3 (one cell of the only108 layout) and 1,270,872"),
    (["--records", "-5"], "--records must be between 3"),
    (["--records", "2", "--layout", "full"], "--records must be between 12"),
    (["--records", "10000000"], "got 10,000,000"),
    (["--repeats", "0"], "--repeats must be at least 1"),
])
def test_sizes_it_cannot_make_are_one_line(capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as stop:
        load_script().main([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and message in err, err
    assert not any(tmp_path.iterdir())
