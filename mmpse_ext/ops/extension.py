"""Loads the compiled ``mmpse_ext._C`` library, which registers ``torch.ops.pse_ext.*``."""
import importlib

_LOADED = False


def load_extension() -> None:
    """Import ``mmpse_ext._C`` once; raise an actionable error if it was not built."""
    global _LOADED
    if _LOADED:
        return
    try:
        importlib.import_module('mmpse_ext._C')
    except ImportError as error:
        raise ImportError(
            'mmpse_ext._C (the pse_ext C++/CUDA op) is not built or does not load against the '
            f'installed torch ({error}). Build it with `pip install --no-build-isolation -e .` '
            'from the repository root, or run `bash tools/setup_env.sh`.') from error
    _LOADED = True
