from . import heads, losses, necks, postprocessors, wrappers  # noqa: F401
