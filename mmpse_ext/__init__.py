"""PSENet for the MMOCR ecosystem.

Importing the package (``custom_imports=dict(imports=['mmpse_ext'])``) registers every module in
the ``mmpse_ext`` scope; see :mod:`mmpse_ext.registry`.
"""
from .version import __version__
from . import ops  # noqa: F401  (loads the compiled pse_ext op library)
from . import datasets, engine, evaluation, models  # noqa: F401  (run the registrations)

__all__ = ['__version__']
