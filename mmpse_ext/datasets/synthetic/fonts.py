"""Locate the DejaVu TrueType fonts that ship with matplotlib (available offline)."""
import importlib.util
import os
import os.path as osp
from functools import lru_cache
from typing import Tuple

#: Regular, bold, oblique and serif faces; the "Display" faces (tiny caps) are left out.
FONT_FILES = ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf',
              'DejaVuSans-BoldOblique.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
              'DejaVuSerif-Italic.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf')


def matplotlib_font_dir() -> str:
    """``.../matplotlib/mpl-data/fonts/ttf`` without importing matplotlib (slow import)."""
    spec = importlib.util.find_spec('matplotlib')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('matplotlib is not installed; the synthetic data generator uses its '
                           'DejaVu fonts (pip install matplotlib) or pass font_dir=')
    return osp.join(spec.submodule_search_locations[0], 'mpl-data', 'fonts', 'ttf')


@lru_cache(maxsize=None)
def find_fonts(font_dir: str = '') -> Tuple[str, ...]:
    """Paths of the usable ``.ttf`` faces, in :data:`FONT_FILES` order.

    Args:
        font_dir (str): Directory to look in; ``''`` = matplotlib's font directory.

    Raises:
        FileNotFoundError: None of :data:`FONT_FILES` is in the directory.
    """
    font_dir = font_dir or matplotlib_font_dir()
    available = set(os.listdir(font_dir)) if osp.isdir(font_dir) else set()
    paths = tuple(osp.join(font_dir, name) for name in FONT_FILES if name in available)
    if not paths:
        raise FileNotFoundError(f'no DejaVu font ({", ".join(FONT_FILES[:2])}, ...) in {font_dir}')
    return paths
