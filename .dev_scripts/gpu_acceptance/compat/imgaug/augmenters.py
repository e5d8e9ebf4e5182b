"""Placeholder for ``imgaug.augmenters``; see the package docstring."""
from . import _Unavailable


def __getattr__(name):
    return _Unavailable(f'imgaug.augmenters.{name}')
