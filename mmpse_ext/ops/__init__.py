from .extension import load_extension

load_extension()
