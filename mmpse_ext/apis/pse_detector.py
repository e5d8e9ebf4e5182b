"""``PSEDetector``: images in, text polygons out, on PyTorch or ONNX Runtime."""
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from torch import Tensor

from .backends import OnnxRuntimeLogitsBackend, TorchLogitsBackend
from .image_inputs import collect_images
from .logits_network import InputNormalisation, PSELogitsNetwork
from .model_loading import load_config, load_model

BACKENDS = ('pytorch', 'onnxruntime')
ImageInput = Union[str, np.ndarray]


class Detection(NamedTuple):
    """Text instances found in one image.

    Attributes:
        polygons (list[np.ndarray]): ``[N_i, 2]`` float32 points ``(x, y)`` per instance, in
            original image pixels (as the post-processor's ``rescale`` returns them).
        scores (np.ndarray): ``[N]`` float32 mean text score per instance.
        source (str | int): the image's path, or its index among the inputs for an array.
    """
    polygons: List[np.ndarray]
    scores: np.ndarray
    source: Union[str, int]


class Batch(NamedTuple):
    """Images of one padded size, ready for a logits backend.

    Attributes:
        images (Tensor): ``[N, 3, H, W]`` float32 raw pixels, padded bottom/right.
        data_samples (list[TextDetDataSample]): their samples (``img_shape``,
            ``scale_factor``, ``ori_shape``).
        sources (list[str | int]): as :attr:`Detection.source`.
        positions (list[int]): their positions among the inputs.
    """
    images: Tensor
    data_samples: list
    sources: list
    positions: List[int]


def inference_pipelines(cfg: Config) -> Tuple[Compose, Compose]:
    """The config's test pipeline without annotation loading, for files and for arrays.

    Returns:
        tuple[Compose, Compose]: the pipeline for ``dict(img_path=...)`` and the same without
        its first (image loading) transform, for ``dict(img=array, ...)``.
    """
    steps = [dict(t) for t in cfg.test_dataloader.dataset.pipeline
             if not t['type'].split('.')[-1].startswith('LoadOCRAnnotations')]
    if not steps or 'LoadImage' not in steps[0]['type']:
        raise ValueError(f'{cfg.filename}: the test pipeline should start with an image loader, '
                         f'got {steps[0]["type"] if steps else "an empty pipeline"}')
    return Compose(steps), Compose(steps[1:])


def default_device(backend: str) -> str:
    """CUDA when available to the backend (onnxruntime needs its GPU build), else the CPU."""
    if not torch.cuda.is_available():
        return 'cpu'
    if backend == 'onnxruntime':
        import onnxruntime as ort
        return 'cuda' if 'CUDAExecutionProvider' in ort.get_available_providers() else 'cpu'
    return 'cuda'


class PSEDetector:
    """Detect text with a PSENet: one API over eager PyTorch and ONNX Runtime.

    Each image goes through the config's test pipeline (resize, packing), is padded like the
    model's data preprocessor pads it, and is batched with other images of the same padded
    size (so an image's logits do not depend on its batch-mates); the backend computes the
    logits (:class:`PSELogitsNetwork`), and the config's post-processor (``pse_ext`` op,
    contours, rescaling) turns them into polygons in original image coordinates.

    Example::

        detector = PSEDetector('configs/pse_r50vd_icdar15.py', 'model.onnx',
                               backend='onnxruntime')
        for detection in detector(['a.jpg', 'folder/']):
            print(detection.source, len(detection.polygons))

    Args:
        config (str | Config): the model's config (model, test pipeline, post-processor).
        weights (str): a checkpoint (``.pth``) for ``backend='pytorch'``, an exported network
            (``tools/model_converters/export_onnx.py``) for ``backend='onnxruntime'``.
        backend (str): ``'pytorch'`` or ``'onnxruntime'``.
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` …; default: CUDA when
            available to the backend.
        batch_size (int): at most this many images per network call.
        num_threads (int, optional): intra-op threads of ONNX Runtime (PyTorch uses
            ``torch.set_num_threads``); default: the runtime's choice.
        precision (str): ``'fp32'``, or for ``backend='pytorch'`` ``'bf16'`` (bfloat16
            autocast, channels_last: the fast choice on CPUs with AVX512-BF16/AMX) or
            ``'fp16'`` (GPUs); post-processing always gets float32 logits. An int8 model is an
            ONNX file (``tools/model_converters/quantize_onnx.py``), run with ``'fp32'``.
    """

    def __init__(self, config: Union[str, Config], weights: str, backend: str = 'pytorch',
                 device: Optional[str] = None, batch_size: int = 1,
                 num_threads: Optional[int] = None, precision: str = 'fp32') -> None:
        import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks them)
        from mmocr.registry import MODELS
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
        if int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if backend != 'pytorch' and precision != 'fp32':
            raise ValueError(f'precision={precision!r} is for the pytorch backend; an int8 ONNX '
                             'model comes from tools/model_converters/quantize_onnx.py')
        self.cfg = load_config(config)
        self.batch_size = int(batch_size)
        device = device or default_device(backend)
        if backend == 'pytorch':
            model = load_model(self.cfg, weights, 'cpu')
            network = PSELogitsNetwork(model)
            self.normalisation = network.normalisation
            self.postprocessor = model.det_head.postprocessor
            self.backend = TorchLogitsBackend(network, device, precision)
        else:
            model_cfg = self.cfg.model
            self.normalisation = InputNormalisation.of(MODELS.build(model_cfg.data_preprocessor))
            self.postprocessor = MODELS.build(model_cfg.det_head.postprocessor)
            self.backend = OnnxRuntimeLogitsBackend(weights, device, num_threads)
        self.file_pipeline, self.array_pipeline = inference_pipelines(self.cfg)
        self._padding_pixel = self.normalisation.padding_pixel().reshape(3, 1, 1)

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[Detection]:
        """Detect text in every input image.

        Args:
            inputs: an image path, a folder (searched recursively), a glob pattern, a BGR
                ``uint8`` array ``[H, W, 3]`` (or ``[H, W]`` grey), or a list of these.

        Returns:
            list[Detection]: one per image, in input order (folders and patterns expanded in
            sorted order).
        """
        items = self.expand_inputs(inputs)
        results: List[Optional[Detection]] = [None] * len(items)
        for position, detection in self.predict_iter(items):
            results[position] = detection
        return results

    @staticmethod
    def expand_inputs(inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[ImageInput]:
        """Paths, folders and patterns → image files; arrays are kept as they are."""
        if isinstance(inputs, (str, np.ndarray)):
            inputs = [inputs]
        items: List[ImageInput] = []
        for item in inputs:
            if isinstance(item, np.ndarray):
                items.append(item)
            elif isinstance(item, str):
                items.extend(collect_images([item]))
            else:
                raise TypeError(f'input {len(items)}: expected an image path or a numpy array, '
                                f'got {type(item).__name__}')
        return items

    def predict_iter(self, items: Sequence[ImageInput]) -> Iterator[Tuple[int, Detection]]:
        """Yield ``(position, Detection)`` as batches finish (not in input order).

        Args:
            items (Sequence[str | np.ndarray]): image files or arrays (see
                :meth:`expand_inputs`).
        """
        for batch in self.batches(items):
            yield from zip(batch.positions, self.predict_batch(batch))

    def batches(self, items: Sequence[ImageInput]) -> Iterator[Batch]:
        """Group the prepared images by padded size into batches of at most ``batch_size``.

        A batch is emitted as soon as it is full; partial ones at the end, so at most one
        unfinished batch per distinct size is held in memory.
        """
        pending = {}
        for position, item in enumerate(items):
            image, data_sample, source = self.prepare(item, position)
            size = tuple(image.shape[-2:])
            group = pending.setdefault(size, [])
            group.append((image, data_sample, source, position))
            if len(group) == self.batch_size:
                yield self._collate(pending.pop(size))
        for group in pending.values():
            yield self._collate(group)

    def prepare(self, item: ImageInput, position: int):
        """Run the test pipeline on one image and pad it.

        Returns:
            tuple[Tensor, TextDetDataSample, str | int]: ``[3, H, W]`` float32 padded raw
            image, its data sample and its source.
        """
        if isinstance(item, str):
            packed = self.file_pipeline(dict(img_path=item))
            source = item
        else:
            packed = self.array_pipeline(self._array_results(item, position))
            source = position
        image = packed['inputs']
        divisor = self.normalisation.size_divisor
        height, width = image.shape[-2:]
        padded_hw = (-(-height // divisor) * divisor, -(-width // divisor) * divisor)
        padded = self._padding_pixel.expand(3, *padded_hw).clone()
        padded[:, :height, :width] = image
        return padded, packed['data_samples'], source

    @staticmethod
    def _array_results(array: np.ndarray, position: int) -> dict:
        """The results dict an image loader would have produced for ``array``."""
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
            raise ValueError(f'input {position}: expected a uint8 BGR image [H, W, 3] or a grey '
                             f'one [H, W], got {array.dtype} {list(array.shape)}')
        shape = array.shape[:2]
        return dict(img=array, img_shape=shape, ori_shape=shape, img_path=None)

    @staticmethod
    def _collate(group: list) -> Batch:
        images, data_samples, sources, positions = zip(*group)
        return Batch(torch.stack(images), list(data_samples), list(sources), list(positions))

    def predict_batch(self, batch: Batch) -> List[Detection]:
        """Logits from the backend, then the config's post-processor."""
        logits = self.backend(batch.images)
        samples = self.postprocessor(logits, batch.data_samples)
        return [self._detection(sample, source) for sample, source in zip(samples, batch.sources)]

    @staticmethod
    def _detection(sample, source) -> Detection:
        pred = sample.pred_instances
        polygons = [np.asarray(p, dtype=np.float32).reshape(-1, 2) for p in pred.polygons]
        scores = pred.scores
        scores = (scores.detach().cpu().numpy() if isinstance(scores, Tensor)
                  else np.asarray(scores))
        return Detection(polygons, scores.astype(np.float32).reshape(-1), source)
