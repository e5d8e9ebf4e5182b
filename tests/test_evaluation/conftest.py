"""Makes the official-script reference (``icdar2015_official_reference.py``) importable."""
import os.path as osp
import sys

_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
