"""Placeholder for imgaug on the GPU acceptance machine only (.dev_scripts/gpu_acceptance.sh).

imgaug 0.4.0, which mmocr 1.0.1 imports at start-up for its ``ImgAugWrapper`` transform, does not
import under numpy 2 (it reads ``np.sctypes``), and the acceptance machine ships numpy 2. Nothing
the acceptance run executes uses imgaug, so this module only lets ``import imgaug`` succeed: any
attribute use raises. The script puts it on the path only when the real imgaug fails to import.
"""


class _Unavailable:

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return _Unavailable(f'{self._name}.{attribute}')

    def __call__(self, *args, **kwargs):
        raise ImportError(f'{self._name}: imgaug is a placeholder on this machine (it does not '
                          'import under numpy 2); see .dev_scripts/gpu_acceptance/compat/imgaug')


def __getattr__(name):
    return _Unavailable(f'imgaug.{name}')
