"""The command line shared by the synthetic-set generators
(``tools/dataset_converters/make_synthetic_icdar15.py``, ``make_synthetic_curved.py``)."""
import argparse
import sys
from typing import Callable, Optional, Sequence


def run_generator_cli(generate: Callable[..., dict],
                      default_out: str,
                      description: str,
                      argv: Optional[Sequence[str]] = None) -> None:
    """Parse the generators' options and call ``generate(out, num_train=..., num_test=...,
    size_range=..., seed=..., font_dir=...)``.

    A bad value (``--size 300 200``, no fonts) or an unwritable ``--out`` ends the program
    with one line naming it (``<script>: error: ...``, exit status 1), not a traceback.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--out', default=default_out, help='output root')
    parser.add_argument('--num-train', type=int, default=300, help='training images')
    parser.add_argument('--num-test', type=int, default=60, help='test images')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(320, 640),
        metavar=('MIN', 'MAX'),
        help='range of the long image side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='base random seed')
    parser.add_argument(
        '--font-dir', default='', help="directory with DejaVu .ttf files (default: matplotlib's)")
    args = parser.parse_args(argv)
    try:
        generate(
            args.out,
            num_train=args.num_train,
            num_test=args.num_test,
            size_range=tuple(args.size),
            seed=args.seed,
            font_dir=args.font_dir)
    except (ValueError, OSError) as err:
        sys.exit(f'{parser.prog}: error: {err}')
