"""Generate the synthetic curved-text set in the CTW1500 and Total-Text layouts.

    python tools/dataset_converters/make_synthetic_curved.py     # data/synthetic_curved, 300+60
    python tools/dataset_converters/make_synthetic_curved.py --num-train 500 --seed 1 --out /tmp/c

Deterministic: the same arguments write byte-identical files. Read it with
``TextDetDataset(data_root, ann_format='totaltext' | 'ctw1500')``; see
:func:`mmpse_ext.datasets.synthetic.make_synthetic_curved` for the layout.
"""
import argparse
import sys

from mmpse_ext.datasets.synthetic import make_synthetic_curved


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_curved', help='output root')
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
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        make_synthetic_curved(
            args.out,
            num_train=args.num_train,
            num_test=args.num_test,
            size_range=tuple(args.size),
            seed=args.seed,
            font_dir=args.font_dir)
    except (ValueError, OSError) as err:
        sys.exit(f'make_synthetic_curved.py: error: {err}')


if __name__ == '__main__':
    main()
