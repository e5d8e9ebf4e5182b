"""Generate the synthetic curved-text set in the CTW1500 and Total-Text layouts.

    python tools/dataset_converters/make_synthetic_curved.py     # data/synthetic_curved, 300+60
    python tools/dataset_converters/make_synthetic_curved.py --num-train 500 --seed 1 --out /tmp/c

Deterministic: the same arguments write byte-identical files. Read it with
``TextDetDataset(data_root, ann_format='totaltext' | 'ctw1500')``; see
:func:`mmpse_ext.datasets.synthetic.make_synthetic_curved` for the layout.
"""
from mmpse_ext.datasets.synthetic import make_synthetic_curved
from mmpse_ext.datasets.synthetic.generator_cli import run_generator_cli


def main(argv=None):
    run_generator_cli(make_synthetic_curved, 'data/synthetic_curved', __doc__.split('\n')[0], argv)


if __name__ == '__main__':
    main()
