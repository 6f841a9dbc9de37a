"""``python -m gnnas.pretrain`` (also under ``torchrun --nproc_per_node=N``): ``gnnas pretrain``.

The same parser and the same run as ``gnnas pretrain`` (:mod:`gnnas.pretrain.command`): every
flag, default, output file and error message is the same.
"""

import sys

from gnnas.pretrain.command import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
