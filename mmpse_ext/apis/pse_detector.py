"""``PSEDetector``: images in, text polygons out, on PyTorch or ONNX Runtime."""
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from torch import Tensor

from .backends import OnnxRuntimeLogitsBackend, TorchLogitsBackend
from .checkpoint_reading import error_summary
from .image_inputs import collect_images
from .logits_network import InputNormalisation, PSELogitsNetwork
from .model_loading import ConfigError, load_config, load_model
from .scale_options import network_input_cap, with_test_scale
from .tiled_inference import TiledInference
from .unreadable_images import UnreadableImageError, unreadable_reason

BACKENDS = ('pytorch', 'onnxruntime')
ON_ERROR = ('report', 'raise')
ImageInput = Union[str, np.ndarray]


class Detection(NamedTuple):
    """Text instances found in one image.

    Attributes:
        polygons (list[np.ndarray]): ``[N_i, 2]`` float32 points ``(x, y)`` per instance, in
            original image pixels (as the post-processor's ``rescale`` returns them).
        scores (np.ndarray): ``[N]`` float32 mean text score per instance.
        source (str | int): the image's path, or its index among the inputs for an array.
        error (str, optional): why the file could not be read (``'empty file'``, ``'truncated
            JPEG'``, ``'not an image: a text file'``, …), None when it was; an unreadable file
            has no polygons (see ``on_error`` of :class:`PSEDetector`).
    """
    polygons: List[np.ndarray]
    scores: np.ndarray
    source: Union[str, int]
    error: Optional[str] = None


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


#: mmcv's ``color_type`` values that ignore EXIF orientation, and their counterparts that apply
#: it (with the ``cv2`` and ``pillow`` decoders; ``'unchanged'`` never applies it).
EXIF_COLOR_TYPES = {
    'color_ignore_orientation': 'color',
    'grayscale_ignore_orientation': 'grayscale'
}
EXIF_DECODERS = ('cv2', 'pillow')


def honours_exif_orientation(loader: dict) -> bool:
    """Whether an image-loading step (MMOCR's ``LoadImageFromFile`` settings) rotates images as
    their EXIF orientation tag says."""
    return (loader.get('color_type', 'color') in EXIF_COLOR_TYPES.values()
            and loader.get('imdecode_backend', 'cv2') in EXIF_DECODERS)


def with_exif_orientation(loader: dict, honour: bool, config_name: str) -> dict:
    """A copy of the image-loading step that honours (or ignores) EXIF orientation.

    Raises:
        ConfigError: ``honour`` is asked of a loader whose ``color_type`` (``'unchanged'``) or
            decoder (``'turbojpeg'``) cannot apply it.
    """
    loader = dict(loader)
    color_type = loader.get('color_type', 'color')
    if honour and not honours_exif_orientation(loader):
        loader['color_type'] = EXIF_COLOR_TYPES.get(color_type, color_type)
        if not honours_exif_orientation(loader):
            raise ConfigError(
                f'config {config_name!r}: its image loader (color_type={color_type!r}, '
                f"imdecode_backend={loader.get('imdecode_backend', 'cv2')!r}) cannot apply EXIF "
                "orientation; use color_type='color' with the cv2 or pillow decoder")
    elif not honour:
        ignoring = {value: key for key, value in EXIF_COLOR_TYPES.items()}
        loader['color_type'] = ignoring.get(color_type, color_type)
    return loader


def inference_pipelines(cfg: Config,
                        exif_orientation: Optional[bool] = None) -> Tuple[Compose, Compose]:
    """The config's test pipeline without annotation loading, for files and for arrays.

    Args:
        cfg (Config): the model's config.
        exif_orientation (bool, optional): True/False: make the image loader honour/ignore the
            EXIF orientation tag of a file (:func:`with_exif_orientation`); None: as the config
            says (our configs, like MMOCR's, ignore it).

    Returns:
        tuple[Compose, Compose]: the pipeline for ``dict(img_path=...)`` and the same without
        its first (image loading) transform, for ``dict(img=array, ...)``.

    Raises:
        ConfigError: the config has no test pipeline starting with an image loader.
    """
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except (AttributeError, KeyError):
        raise ConfigError(f'config {cfg.filename!r} has no test pipeline '
                          '(test_dataloader.dataset.pipeline)') from None
    steps = [
        dict(t) for t in pipeline if not t['type'].split('.')[-1].startswith('LoadOCRAnnotations')
    ]
    if not steps or 'LoadImage' not in steps[0]['type']:
        raise ConfigError(f'{cfg.filename}: the test pipeline should start with an image loader, '
                          f'got {steps[0]["type"] if steps else "an empty pipeline"}')
    if exif_orientation is not None:
        steps[0] = with_exif_orientation(steps[0], exif_orientation, cfg.filename)
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
            ``'fp16'`` (GPUs), with the first and last convolution in float32
            (:class:`TorchLogitsBackend`); post-processing always gets float32 logits. An
            int8 model is an ONNX file (``tools/model_converters/quantize_onnx.py``), run
            with ``'fp32'``.
        on_error (str): what an image file that cannot be read does (empty, truncated, not an
            image, unsupported format): ``'report'`` (default) gives it a :class:`Detection`
            without polygons whose ``error`` says why, and the other images are still
            answered; ``'raise'`` raises :class:`UnreadableImageError` at that file.
        exif_orientation (bool, optional): True: files are turned as their EXIF orientation
            tag says (the way a photo viewer shows them), and polygons are in that orientation;
            False: the tag is ignored (sensor orientation); None (default): as the config's
            image loader says (``color_type='color'`` honours the tag,
            ``'color_ignore_orientation'``, which our configs use as MMOCR's do, ignores it).
            Arrays are used as given.
        limit_side_len (int, optional): override the test resize's side length
            (``mmpse_ext.LimitSideResize``); default: the config's (736 for ICDAR2015).
        limit_type (str, optional): override its rule, ``'min'`` (enlarge the short side to
            ``limit_side_len``: the recipe's), ``'max'`` (shrink the long side to it: photos,
            e.g. 960) or ``'resize_long'``; default: the config's. Whatever the rule, the
            resize's cap (``max_pixels``, ``max_side``) bounds the network input.
        tile (int, optional): tiled inference (:class:`TiledInference`): an image whose longer
            side exceeds ``tile`` keeps its own pixel size and the network runs on
            overlapping ``tile × tile`` tiles (a multiple of 32 within the cap); default: off.
    """

    def __init__(self,
                 config: Union[str, Config],
                 weights: str,
                 backend: str = 'pytorch',
                 device: Optional[str] = None,
                 batch_size: int = 1,
                 num_threads: Optional[int] = None,
                 on_error: str = 'report',
                 exif_orientation: Optional[bool] = None,
                 limit_side_len: Optional[int] = None,
                 limit_type: Optional[str] = None,
                 tile: Optional[int] = None,
                 precision: str = 'fp32') -> None:
        from mmocr.registry import MODELS

        import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks them)
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
        if int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if backend != 'pytorch' and precision != 'fp32':
            raise ValueError(f'precision={precision!r} is for the pytorch backend; an int8 ONNX '
                             'model comes from tools/model_converters/quantize_onnx.py')
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        self.on_error = on_error
        self.cfg = with_test_scale(load_config(config), limit_side_len, limit_type)
        self.tiling = None if tile is None else TiledInference(tile, **network_input_cap(self.cfg))
        self.batch_size = int(batch_size)
        self.file_pipeline, self.array_pipeline = inference_pipelines(self.cfg, exif_orientation)
        self._loader = self.file_pipeline.transforms[0]
        #: whether files are read in the orientation their EXIF tag gives (the resolved choice)
        self.exif_orientation = honours_exif_orientation(
            dict(
                color_type=getattr(self._loader, 'color_type', 'color'),
                imdecode_backend=getattr(self._loader, 'imdecode_backend', 'cv2')))
        device = device or default_device(backend)
        if backend == 'pytorch':
            model = load_model(self.cfg, weights, 'cpu')
            network = PSELogitsNetwork(model)
            self.normalisation = network.normalisation
            self.postprocessor = model.det_head.postprocessor
            self.backend = TorchLogitsBackend(network, device, precision)
        else:
            model_cfg = self.cfg.model
            try:
                self.normalisation = InputNormalisation.of(
                    MODELS.build(model_cfg.data_preprocessor))
                self.postprocessor = MODELS.build(model_cfg.det_head.postprocessor)
            except Exception as error:  # registry / constructor errors of a user's config
                raise ConfigError(
                    f'config {self.cfg.filename!r}: its data preprocessor or post-processor '
                    f'cannot be built: {error_summary(error)}') from None
            self.backend = OnnxRuntimeLogitsBackend(weights, device, num_threads)
        self._padding_pixel = self.normalisation.padding_pixel().reshape(3, 1, 1)

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[Detection]:
        """Detect text in every input image.

        Args:
            inputs: an image path, a folder (searched recursively), a glob pattern, a BGR
                ``uint8`` array ``[H, W, 3]`` (or ``[H, W]`` grey), or a list of these.

        Returns:
            list[Detection]: one per image, in input order (folders and patterns expanded in
            sorted order); a file that cannot be read has no polygons and its ``error`` says
            why (with ``on_error='report'``).
        """
        items = self.expand_inputs(inputs)
        results: List[Optional[Detection]] = [None] * len(items)
        for position, detection in self.predict_iter(items):
            results[position] = detection
        return results

    @staticmethod
    def expand_inputs(inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[ImageInput]:
        """Paths, folders and patterns → image files; arrays are checked and kept as they are.

        Raises:
            FileNotFoundError: a path, folder or pattern that gives no image file.
            ValueError, TypeError: an array that is not a uint8 image, an input of another type.
        """
        if isinstance(inputs, (str, np.ndarray)):
            inputs = [inputs]
        items: List[ImageInput] = []
        for item in inputs:
            if isinstance(item, np.ndarray):
                PSEDetector.check_array(item, len(items))  # before any work is done
                items.append(item)
            elif isinstance(item, str):
                items.extend(collect_images([item]))
            else:
                raise TypeError(f'input {len(items)}: expected an image path or a numpy array, '
                                f'got {type(item).__name__}')
        return items

    def predict_iter(self,
                     items: Sequence[ImageInput],
                     tile: bool = True) -> Iterator[Tuple[int, Detection]]:
        """Yield ``(position, Detection)`` as batches finish (not in input order).

        An unreadable file is yielded (with its ``error``) as soon as it is found, before the
        batch being filled at that moment; with ``on_error='raise'`` it raises instead.

        Args:
            items (Sequence[str | np.ndarray]): image files or arrays (see
                :meth:`expand_inputs`).
            tile (bool): with the detector's ``tile`` set, tile the images larger than a tile;
                False: every image through the test pipeline.
        """
        if tile and self.tiling is not None:
            yield from self.tiling.predict_iter(self, items)
            return
        unreadable: List[Tuple[int, UnreadableImageError]] = []
        for batch in self.batches(items, unreadable):
            yield from self._unreadable_detections(unreadable)
            yield from zip(batch.positions, self.predict_batch(batch))
        yield from self._unreadable_detections(unreadable)

    @staticmethod
    def _unreadable_detections(unreadable: list) -> Iterator[Tuple[int, Detection]]:
        while unreadable:
            position, error = unreadable.pop(0)
            yield position, Detection([], np.zeros(0, np.float32), error.path, error.reason)

    def batches(self,
                items: Sequence[ImageInput],
                unreadable: Optional[list] = None) -> Iterator[Batch]:
        """Group the prepared images by padded size into batches of at most ``batch_size``.

        A batch is emitted as soon as it is full; partial ones at the end, so at most one
        unfinished batch per distinct size is held in memory.

        Args:
            items (Sequence[str | np.ndarray]): image files or arrays.
            unreadable (list, optional): with ``on_error='report'``, files that cannot be read
                are appended to it as ``(position, UnreadableImageError)`` and skipped;
                otherwise (or without a list) the error is raised.
        """
        pending = {}
        for position, item in enumerate(items):
            try:
                image, data_sample, source = self.prepare(item, position)
            except UnreadableImageError as error:
                if unreadable is None or self.on_error == 'raise':
                    raise
                unreadable.append((position, error))
                continue
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

        Raises:
            UnreadableImageError: ``item`` is a file the image loader cannot read.
        """
        if isinstance(item, str):
            packed = self.array_pipeline(self.load_image(item))
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

    def load_image(self, path: str) -> dict:
        """The config's image loader on one file (its results dict), or why it cannot read it.

        Raises:
            UnreadableImageError: with the reason :func:`unreadable_reason` finds in the file.
        """
        try:
            results = self._loader(dict(img_path=path))
        except Exception as error:  # the loader reads and decodes only: a failure is the file's
            raise UnreadableImageError(path, unreadable_reason(path, error)) from None
        if results is None:  # a loader with ignore_empty=True returns None for a bad file
            raise UnreadableImageError(path, unreadable_reason(path))
        return results

    @staticmethod
    def check_array(array: np.ndarray, position: int) -> None:
        """Raise ValueError unless ``array`` is a uint8 BGR ``[H, W, 3]`` or grey ``[H, W]``
        image (a caller's mistake, raised whatever ``on_error`` says)."""
        channels_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)
        if not channels_ok or array.dtype != np.uint8:
            raise ValueError(f'input {position}: expected a uint8 BGR image [H, W, 3] or a grey '
                             f'one [H, W], got {array.dtype} {list(array.shape)}')

    @classmethod
    def _array_results(cls, array: np.ndarray, position: int) -> dict:
        """The results dict an image loader would have produced for ``array``."""
        cls.check_array(array, position)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
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
        scores = (
            scores.detach().cpu().numpy() if isinstance(scores, Tensor) else np.asarray(scores))
        return Detection(polygons, scores.astype(np.float32).reshape(-1), source)
