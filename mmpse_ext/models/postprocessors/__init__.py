from .pse_postprocessor import CUDA_DECODE_PATHS, PSEPostprocessor

__all__ = ['CUDA_DECODE_PATHS', 'PSEPostprocessor']
