"""Generate the synthetic ICDAR2015-format data set (all three annotation formats).

    # data/synthetic_icdar2015, 300 + 60 images:
    python tools/dataset_converters/make_synthetic_icdar15.py
    python tools/dataset_converters/make_synthetic_icdar15.py --num-train 1000 --size 480 960 \
        --seed 1 --out /tmp/s

Deterministic: the same arguments write byte-identical files. See
:func:`mmpse_ext.datasets.synthetic.make_synthetic_icdar2015` for the layout.
"""
import argparse

from mmpse_ext.datasets.synthetic import make_synthetic_icdar2015


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/synthetic_icdar2015', help='output root')
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
    make_synthetic_icdar2015(
        args.out,
        num_train=args.num_train,
        num_test=args.num_test,
        size_range=tuple(args.size),
        seed=args.seed,
        font_dir=args.font_dir)


if __name__ == '__main__':
    main()
