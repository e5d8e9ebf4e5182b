"""PSENet for the MMOCR ecosystem.

Importing the package (``custom_imports=dict(imports=['mmpse_ext'])``) registers every module in
the ``mmpse_ext`` scope (see :mod:`mmpse_ext.registry`) and lets torch's safe loader
(``weights_only=True``) read mmengine's runner checkpoints (see
:mod:`mmpse_ext.engine.checkpoint_safe_globals`).
"""
from . import ops  # noqa: F401  (loads the compiled pse_ext op library)
from . import datasets, engine, evaluation, models  # noqa: F401  (run the registrations)
from .engine import allow_mmengine_checkpoint_globals
from .version import __version__

allow_mmengine_checkpoint_globals()

__all__ = ['__version__']
