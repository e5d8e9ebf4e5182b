"""Makes the helper modules of this folder importable from its sub-folders: the official-script
reference (``icdar2015_official_reference.py``) and the metric tests' samples
(``hmean_samples.py``)."""
import os.path as osp
import sys

_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
