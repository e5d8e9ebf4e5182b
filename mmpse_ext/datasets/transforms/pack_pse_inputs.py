"""mmocr's ``PackTextDetInputs`` plus the PSE targets."""
import numpy as np
import torch
from mmocr.datasets.transforms import PackTextDetInputs

from ...registry import TRANSFORMS

#: The PSE targets, packed as data fields of the data sample.
TARGET_KEYS = ('gt_kernels', 'gt_train_mask')


@TRANSFORMS.register_module()
class PackPSEInputs(PackTextDetInputs):
    """Pack like mmocr and attach the targets made by :class:`PSETargets` (docs/interfaces.md).

    Added to each ``TextDetDataSample`` when present in the results:

    - ``gt_kernels`` (Tensor[K, H, W], uint8 in {0, 1}): channel 0 = text map, 1..K-1 = kernels
      largest → smallest; H, W = the packed image's size.
    - ``gt_train_mask`` (Tensor[H, W], uint8 in {0, 1}): 0 = ignored.

    Args:
        meta_keys (tuple[str]): Meta keys copied to the data sample (all must be present).
    """

    def __init__(self, meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor')) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack image, annotations, meta information and PSE targets."""
        packed = super().transform(results)
        data_sample = packed['data_samples']
        img_hw = tuple(packed['inputs'].shape[-2:]) if 'inputs' in packed else None
        for key in TARGET_KEYS:
            if key not in results:
                continue
            target = np.ascontiguousarray(results[key], dtype=np.uint8)
            if img_hw is not None and target.shape[-2:] != img_hw:
                raise ValueError(f'{key} has size {target.shape[-2:]} but the image is {img_hw}; '
                                 'every transform after PSETargets must also transform the maps')
            if key in data_sample.metainfo_keys():
                # a meta key list that names every result key (MMOCR's browse_dataset.py
                # widens it so) made the map meta information; it is data
                delattr(data_sample, key)
            data_sample.set_field(torch.from_numpy(target), key)
        return packed
