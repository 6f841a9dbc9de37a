"""Torch threads: pretraining and a NAO search at each thread count, side by side in one run.

Every job runs in a fresh process (so torch's thread pool starts anew), the thread counts
alternate within each round, and each job's wall time and CPU time (of its process) are
recorded: on a shared machine, ratios measured side by side are what can be compared. The jobs:

- pretraining: --iterations iterations of MarginLoss (batch 512, the preset's) on 20,000 anchors,
  with the positives made in the training process; the time per iteration excludes start-up;
- NAO: gnnas search --method nao --budget 96 with short settings (32 initial cells, 20 inner
  epochs, 32 seeds and candidates), from a fresh controller, on the bundled table.

commands:
  python benchmarks/threads.py                      # threads 1 and 2, one round
  python benchmarks/threads.py --rounds 2 --skip-nao

Writes threads.json (configuration, load averages, every job) to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gnnas.flags import plain

_PRETRAIN = """\
import sys, tempfile, time, torch
torch.set_num_threads(int(sys.argv[1]))
from gnnas.pretrain import PretrainConfig, pretrain
from gnnas.space import sample_cells
cells = sample_cells(20000, seed=0)
config = PretrainConfig(loss="MarginLoss", max_iterations=int(sys.argv[2]), num_workers=0, progress=False,
                        checkpoint_interval=0, seed=0)
start = time.perf_counter()
pretrain(config, cells=cells, output_dir=tempfile.mkdtemp())
print("SECONDS_PER_ITERATION", (time.perf_counter() - start) / int(sys.argv[2]))
"""


_NAO = ["-m", "gnnas", "search", "--method", "nao", "--num-init", "32", "--inner-epochs", "20",
        "--num-seeds", "32", "--num-candidates", "32", "--no-progress"]


def build_parser() -> argparse.ArgumentParser:
    """The script's command line."""
    parser = argparse.ArgumentParser(description=plain(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2],
                        help="torch thread counts compared (default: 1 2)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the thread counts (default: 1)")
    parser.add_argument("--iterations", type=int, default=60,
                        help="pretraining iterations per job (default: 60)")
    parser.add_argument("--budget", type=int, default=96, help="queries of each NAO job (default: 96)")
    parser.add_argument("--skip-nao", action="store_true", help="time the pretraining only")
    parser.add_argument("--out", type=Path, default=Path("results/threads"),
                        help="output folder (default: results/threads)")
    return parser


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Runs ``python ARGV``; returns its wall seconds, its CPU seconds and its standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"python {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, done.stdout


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if min(args.thread_counts) < 1 or args.rounds < 1 or args.iterations < 1 or args.budget < 1:
        raise SystemExit("--thread-counts, --rounds, --iterations and --budget must be >= 1")
    jobs: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    for round_ in range(args.rounds):
        for threads in args.thread_counts:
            wall, cpu, out = timed(["-c", _PRETRAIN, str(threads), str(args.iterations)])
            step = float(out.split("SECONDS_PER_ITERATION")[1].split()[0])
            jobs.append({"job": "pretrain", "threads": threads, "round": round_, "wall_s": wall, "cpu_s": cpu,
                         "s_per_iteration": step})
            print(f"pretrain, {threads} thread(s): {step:.3f} s per iteration ({wall:.0f} s wall)",
                  flush=True)
            if args.skip_nao:
                continue
            with tempfile.TemporaryDirectory() as folder:
                wall, cpu, _ = timed([*_NAO, "--budget", str(args.budget), "--threads", str(threads),
                                      "--out", folder])
            jobs.append({"job": "nao", "threads": threads, "round": round_, "wall_s": wall, "cpu_s": cpu})
            print(f"NAO, {threads} thread(s): {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    report = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "cpu_count": os.cpu_count(), "load_average_before": load_before,
              "load_average_after": os.getloadavg(), "jobs": jobs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "threads.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'threads.json'}")
    return report


if __name__ == "__main__":
    main()
