"""The PSE targets of a batch for the loss: the packed ones, or made from ``gt_instances``."""
import copy
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmpse_ext.registry import TRANSFORMS


class PSELossTargets:
    """Collects per-sample PSE targets and pads them to the upsampled logits.

    A data sample packed by our pipeline (``mmpse_ext.PSETargets`` + ``mmpse_ext.PackPSEInputs``,
    docs/interfaces.md) carries ``gt_kernels`` and ``gt_train_mask``; they are used as they
    are. A sample from a stock MMOCR pipeline carries only ``gt_instances`` (``polygons``,
    ``ignored``) at its ``img_shape``; then the targets are made here by the transform that
    ``targets`` configures, i.e. by the same code as in the pipeline, and a warning (once per
    instance of this class) says that making them in the data workers is faster. They are
    drawn on the sample's final polygons, i.e. after the stock pipeline's crop and padding.

    Args:
        targets (dict): config of the target transform, built from mmpse_ext's ``TRANSFORMS``;
            ``dict(type='mmpse_ext.PSETargets')`` is PaddleOCR's ``MakePseGt``.
    """

    def __init__(self, targets: Dict) -> None:
        if not isinstance(targets, dict) or 'type' not in targets:
            raise TypeError(f'PSELoss: targets must be a transform config dict with a type, '
                            f'got {targets!r}')
        self.targets_cfg = copy.deepcopy(targets)
        self.transform = TRANSFORMS.build(copy.deepcopy(targets))
        self._warned = False

    def __call__(self, data_samples: Sequence, num_maps: int, size: Tuple[int, int],
                 device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
        """Stack the targets of a batch, zero-padded at the bottom/right to ``size``.

        Args:
            data_samples (Sequence[TextDetDataSample]): the batch.
            num_maps (int): K, the number of predicted maps the targets must match.
            size (tuple[int, int]): (H, W) of the upsampled logits.
            device (torch.device): where the targets go.

        Returns:
            tuple[Tensor, Tensor, Tensor]: float32 in {0, 1}: kernels ``[N, K, H, W]``, the
            training mask ``[N, H, W]`` (0 in the padding) and the image area ``[N, H, W]``
            (1 inside each sample's targets, 0 in the padding).
        """
        kernels: List[Tensor] = []
        masks: List[Tensor] = []
        areas: List[Tensor] = []
        for index, sample in enumerate(data_samples):
            packed = self.packed_targets(sample, index)
            gt, mask = packed if packed is not None else self.make_targets(sample, index)
            if gt.dim() != 3 or gt.shape[0] != num_maps:
                source = 'packed' if packed is not None else f'made by {self.targets_cfg}'
                raise ValueError(f'PSELoss: data sample {index} gt_kernels ({source}) has shape '
                                 f'{list(gt.shape)}, expected [{num_maps}, H, W] for the '
                                 f'{num_maps} predicted maps')
            if mask.shape != gt.shape[1:]:
                raise ValueError(f'PSELoss: data sample {index} gt_train_mask has shape '
                                 f'{list(mask.shape)}, expected {list(gt.shape[1:])}')
            pad_h, pad_w = size[0] - gt.shape[1], size[1] - gt.shape[2]
            if pad_h < 0 or pad_w < 0:
                raise ValueError(f'PSELoss: data sample {index} targets are {list(gt.shape[1:])}'
                                 f', larger than the upsampled logits {list(size)}')
            padding = (0, pad_w, 0, pad_h)
            kernels.append(F.pad(gt.to(device, torch.float32), padding))
            masks.append(F.pad(mask.to(device, torch.float32), padding))
            areas.append(F.pad(torch.ones(gt.shape[1:], device=device), padding))
        return torch.stack(kernels), torch.stack(masks), torch.stack(areas)

    @staticmethod
    def packed_targets(sample, index: int) -> Optional[Tuple[Tensor, Tensor]]:
        """``(gt_kernels, gt_train_mask)`` packed by our pipeline, or None if there are none."""
        has_kernels, has_mask = 'gt_kernels' in sample, 'gt_train_mask' in sample
        if not has_kernels and not has_mask:
            return None
        if not (has_kernels and has_mask):
            missing = 'gt_train_mask' if has_kernels else 'gt_kernels'
            raise KeyError(f'PSELoss: data sample {index} has no {missing} but has the other '
                           'PSE target; pack both (mmpse_ext.PackPSEInputs) or neither')
        return torch.as_tensor(sample.gt_kernels), torch.as_tensor(sample.gt_train_mask)

    def make_targets(self, sample, index: int) -> Tuple[Tensor, Tensor]:
        """Make ``(gt_kernels, gt_train_mask)`` from ``gt_instances`` at ``img_shape``."""
        img_shape = sample.metainfo.get('img_shape')
        if img_shape is None:
            raise KeyError(f'PSELoss: data sample {index} has neither gt_kernels nor img_shape '
                           'in its metainfo, so no PSE targets can be made for it')
        instances = sample.get('gt_instances')
        for field in ('polygons', 'ignored'):
            if instances is None or field not in instances:
                raise KeyError(f'PSELoss: data sample {index} has neither gt_kernels nor '
                               f'gt_instances.{field}, so no PSE targets can be made for it')
        if not self._warned:
            warnings.warn(
                'PSELoss: the data samples carry no gt_kernels, so the loss makes the PSE '
                f'targets itself with {self.targets_cfg}; making them in the data workers '
                "(mmpse_ext.PSETargets + mmpse_ext.PackPSEInputs in the train pipeline) is faster",
                stacklevel=3)
            self._warned = True
        height, width = int(img_shape[0]), int(img_shape[1])
        ignored = instances.ignored
        ignored = (ignored.cpu().numpy()
                   if isinstance(ignored, Tensor) else np.asarray(ignored)).astype(bool).reshape(-1)
        polygons = list(instances.polygons)
        if len(polygons) != len(ignored):
            raise ValueError(f'PSELoss: data sample {index} has {len(polygons)} '
                             f'gt_instances.polygons but {len(ignored)} gt_instances.ignored')
        results = self.transform(
            dict(
                img=np.zeros((height, width, 3), np.uint8),
                img_shape=(height, width),
                gt_polygons=polygons,
                gt_ignored=ignored))
        if results is None or 'gt_kernels' not in results or 'gt_train_mask' not in results:
            raise RuntimeError(f'PSELoss: the targets transform {self.targets_cfg} made no '
                               f'gt_kernels/gt_train_mask for data sample {index}')
        return (torch.from_numpy(np.ascontiguousarray(results['gt_kernels'], np.uint8)),
                torch.from_numpy(np.ascontiguousarray(results['gt_train_mask'], np.uint8)))
