"""Generate the synthetic ICDAR2015-format data set (all three annotation formats).

    # data/synthetic_icdar2015, 300 + 60 images:
    python tools/dataset_converters/make_synthetic_icdar15.py
    python tools/dataset_converters/make_synthetic_icdar15.py --num-train 1000 --size 480 960 \
        --seed 1 --out /tmp/s

Deterministic: the same arguments write byte-identical files. See
:func:`mmpse_ext.datasets.synthetic.make_synthetic_icdar2015` for the layout.
"""
from mmpse_ext.datasets.synthetic import make_synthetic_icdar2015
from mmpse_ext.datasets.synthetic.generator_cli import run_generator_cli


def main(argv=None):
    run_generator_cli(make_synthetic_icdar2015, 'data/synthetic_icdar2015',
                      __doc__.split('\n')[0], argv)


if __name__ == '__main__':
    main()
