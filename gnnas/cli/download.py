r"""``gnnas download``: fetch an official NAS-Bench-101 file, check every record, convert it once.

A thin wrapper over :func:`gnnas.nasbench.download.download_nasbench`.
"""

from __future__ import annotations

import argparse
import time

from gnnas.cli.settings import CLIError, folder_flag

NAME = "download"
HELP = "download an official NAS-Bench-101 file (resumable, every record checked) and convert it"
DESCRIPTION = """\
Downloads nasbench_only108.tfrecord (about 499 MB; --file only108, the default) or
nasbench_full.tfrecord (about 1.95 GB; --file full) from the official address
(https://storage.googleapis.com/nasbench/), or from --url, or from the mirror named by
$GNNAS_NASBENCH_MIRROR (a base URL holding the files under their names), into --dir (default: the
gnnas cache folder) under the URL's file name.

The bytes go to NAME.part with a progress bar. An interrupted transfer resumes where it stopped
(HTTP Range), up to --retries times, and again when the command is run again; a server that
ignores Range sends the whole file, and the transfer starts over. When the transfer is complete,
the length and CRC-32C checksum of every record are checked, and only then is NAME.part renamed
to NAME; a damaged file is reported with the byte offset of its first bad record and removed.
Then the file is converted once (as gnnas convert), so that NASBench101(path) and
gnnas search --data PATH load it in a fraction of a second. A file already at the final path
is not downloaded again.

examples:
  gnnas download                        # ~/.cache/gnnas/nasbench_only108.tfrecord
  gnnas download --file full --dir ~/data
  gnnas download --url https://mirror.example.org/nasbench/nasbench_only108.tfrecord
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of ``gnnas download`` to ``parser``."""
    parser.add_argument("--file", choices=("only108", "full"), default="only108",
                        help="which official file (default: only108)")
    parser.add_argument("--url", default=None,
                        help="download from this address instead (default: $GNNAS_NASBENCH_MIRROR, else "
                             "the official one)")
    parser.add_argument("--dir", default=None, dest="folder",
                        help="folder of the file (default: $GNNAS_CACHE_DIR, else ~/.cache/gnnas)")
    parser.add_argument("--cache-dir", default=None,
                        help="cache of the converted file (default: as gnnas convert)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds without data after which an attempt ends (default: 60)")
    parser.add_argument("--retries", type=int, default=3,
                        help="attempts after an interrupted transfer, each resuming it (default: 3)")
    parser.add_argument("--no-convert", action="store_true", help="download and check only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Downloads, checks and converts; returns the exit status."""
    from gnnas.nasbench.download import download_nasbench, download_target, nasbench_url

    if not args.timeout > 0:
        raise CLIError(f"--timeout must be positive, got {args.timeout:g}")
    if args.retries < 0:
        raise CLIError(f"--retries must be at least 0, got {args.retries}")
    folder = folder_flag("--dir", args.folder)
    cache_dir = folder_flag("--cache-dir", args.cache_dir)
    url = args.url if args.url is not None else nasbench_url(args.file)
    target = download_target(url, folder)
    existed = target.exists()
    print(f"{target.name}: already downloaded, in {target.parent}; checking it again" if existed
          else f"downloading {url}\n  to {target}", flush=True)
    start = time.perf_counter()
    path = download_nasbench(url=url, folder=folder, timeout=args.timeout, retries=args.retries,
                             convert=not args.no_convert, cache_dir=cache_dir,
                             progress=not args.no_progress)
    seconds = time.perf_counter() - start
    checked = "" if existed else f"every record checked, {path.stat().st_size:,} bytes, "
    converted = "" if args.no_convert else "converted; "
    print(f"{path}: {checked}{converted}{seconds:.1f} s")
    print(f"use it with NASBench101({str(path)!r}) or gnnas search --data {path}")
    return 0
