"""Tiled inference: a large image's network runs on overlapping tiles at its own pixel size.

Shrinking a poster, a scanned page or an aerial view to fit the network (the test resize's
cap, or ``limit_type='max'``) shrinks its text below the size the model was trained at, and
the text is lost. Here the image keeps its pixels: the network runs on overlapping tiles, each
tile's logits are kept where they lie at least half the overlap away from the tile's border
(the seam between two neighbours is the middle of their overlap), and the stitched logit map
of the whole image is decoded once by the config's post-processor. An instance that crosses a
seam is therefore one instance (one polygon) of the stitched map, not a piece per tile.
"""
import math
import warnings
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmocr.structures import TextDetDataSample
from torch import Tensor

#: Tiles and overlaps are multiples of this (the networks' input stride and the logit stride
#: divide it, so tiles and seams fall on whole logit pixels).
TILE_MULTIPLE = 32


def tile_spans(length: int, tile: int, overlap: int) -> List[Tuple[int, int, int, int]]:
    """Tiles along one axis and the part of the axis each one owns.

    Tiles start every ``tile - overlap`` pixels; the last one is cut at the end of the image
    (its input is padded to a multiple of :data:`TILE_MULTIPLE`). Neighbours share
    ``overlap`` pixels and the seam between them is the middle of the shared part, so every
    owned pixel lies at least ``overlap // 2`` pixels inside its tile, except at the image's
    own borders.

    Args:
        length (int): the image's size along the axis.
        tile (int): tile size, a multiple of :data:`TILE_MULTIPLE`.
        overlap (int): pixels shared by neighbours, a multiple of :data:`TILE_MULTIPLE`,
            smaller than ``tile``.

    Returns:
        list[tuple[int, int, int, int]]: ``(start, stop, own_start, own_stop)`` per tile, in
        image pixels; ``stop - start <= tile``; the owned parts cover ``[0, length)`` once.
    """
    stride = tile - overlap
    count = 1 if length <= tile else math.ceil((length - tile) / stride) + 1
    starts = [k * stride for k in range(count)]
    seams = [start + overlap // 2 for start in starts[1:]]
    owned = zip([0] + seams, seams + [length])
    return [(start, min(start + tile, length), own_start, own_stop)
            for start, (own_start, own_stop) in zip(starts, owned)]


def default_overlap(tile: int) -> int:
    """A quarter of the tile, in whole :data:`TILE_MULTIPLE` steps (at least one)."""
    return max(tile // 4 // TILE_MULTIPLE * TILE_MULTIPLE, TILE_MULTIPLE)


class TiledInference:
    """Detect text in images larger than a tile by tiling them (see the module doc).

    Used by :class:`~mmpse_ext.apis.PSEDetector` when it is given ``tile``: an image whose
    longer side exceeds ``tile`` is read at its own pixel size (``scale_factor = 1``) and
    tiled (one tile per network call); any other image goes through the config's test
    pipeline as without tiling. Tiling
    replaces the test resize (scale rule and cap) for large images: the network input never
    exceeds ``tile × tile``, while the stitched logits (``K × H/4 × W/4`` float32) and the
    post-processor's label map (int32 ``H × W``) grow with the image (docs/benchmarks.md).

    Args:
        tile (int): tile side in pixels, a multiple of :data:`TILE_MULTIPLE`.
        overlap (int, optional): pixels shared by neighbouring tiles, a multiple of
            :data:`TILE_MULTIPLE` below ``tile``; default :func:`default_overlap`. Text that
            reaches more than ``overlap // 2`` past a seam on both sides is seen whole by
            neither tile (it is still one instance where both tiles find its kernel up to the
            seam); a larger overlap gives each tile more context, at more tiles.
        max_pixels (int, optional): the network-input cap (the test resize's): ``tile ** 2``
            must not exceed it.
        max_side (int, optional): the same for ``tile``.

    Raises:
        ValueError: a size is not a positive multiple of :data:`TILE_MULTIPLE`, the overlap is
            not below the tile, or the tile breaks the cap.
    """

    def __init__(self,
                 tile: int,
                 overlap: Optional[int] = None,
                 max_pixels: Optional[int] = None,
                 max_side: Optional[int] = None) -> None:
        tile = int(tile)
        overlap = default_overlap(tile) if overlap is None else int(overlap)
        if tile <= 0 or tile % TILE_MULTIPLE:
            raise ValueError(f'tile must be a positive multiple of {TILE_MULTIPLE}, got {tile}')
        if overlap <= 0 or overlap % TILE_MULTIPLE or overlap >= tile:
            raise ValueError(f'tile overlap must be a positive multiple of {TILE_MULTIPLE} '
                             f'below the tile ({tile}), got {overlap}')
        if (max_side is not None and tile > max_side) or (max_pixels is not None
                                                          and tile * tile > max_pixels):
            raise ValueError(f'tile {tile} exceeds the network-input cap of the test resize '
                             f'(max_side={max_side}, max_pixels={max_pixels})')
        self.tile = tile
        self.overlap = overlap

    def is_large(self, item) -> bool:
        """Whether ``item`` (a path or an array) is larger than one tile.

        A path's size is read from the file header (PIL); a file whose header cannot be read
        is not tiled (the plain path reads it and reports what is wrong with it).
        """
        if isinstance(item, np.ndarray):
            height, width = item.shape[:2]
        else:
            from PIL import Image
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore', Image.DecompressionBombWarning)
                    with Image.open(item) as image:
                        width, height = image.size
            except Image.DecompressionBombError:  # over 2 x PIL's limit: far beyond a tile
                return True
            except Exception:  # noqa: BLE001  (reported by the plain path)
                return False
        return max(height, width) > self.tile

    def predict_iter(self, detector, items: Sequence) -> Iterator[Tuple[int, object]]:
        """Yield ``(position, Detection)`` for ``items``: large ones tiled, as they finish, then
        the others through ``detector.predict_iter(..., tile=False)``.

        Args:
            detector (PSEDetector): supplies the loader, backend and post-processor.
            items (Sequence[str | np.ndarray]): image files or arrays.
        """
        plain = []
        for position, item in enumerate(items):
            image = self._load(detector, item, position) if self.is_large(item) else None
            if image is None:
                plain.append(position)
                continue
            yield position, self.detect(detector, image,
                                        item if isinstance(item, str) else position)
        for index, detection in detector.predict_iter([items[p] for p in plain], tile=False):
            position = plain[index]
            if not isinstance(detection.source, str):  # an array: its index among all items
                detection = detection._replace(source=position)
            yield position, detection

    @staticmethod
    def _load(detector, item, position: int) -> Optional[np.ndarray]:
        """The BGR ``uint8`` image as the config's loader reads it; ``None`` if it cannot (the
        plain path then reports the file)."""
        if isinstance(item, np.ndarray):
            return detector._array_results(item, position)['img']
        try:
            return detector.load_image(item)['img']
        except OSError:  # UnreadableImageError: the plain path reports it (or raises)
            return None

    def detect(self, detector, image: np.ndarray, source):
        """One image, tiled: stitched logits, then the detector's post-processor.

        Args:
            detector (PSEDetector): supplies the backend, padding and post-processor.
            image (np.ndarray): ``[H, W, 3]`` ``uint8`` in the loader's channel order.
            source (str | int): the Detection's source.

        Returns:
            Detection: polygons in the image's pixels.
        """
        logits = self.stitched_logits(detector, image)
        height, width = image.shape[:2]
        sample = TextDetDataSample(
            metainfo=dict(
                img_shape=(height, width),
                ori_shape=(height, width),
                scale_factor=(1.0, 1.0),
                img_path=source if isinstance(source, str) else None))
        sample = detector.postprocessor(logits[None], [sample])[0]
        return detector._detection(sample, source)

    def stitched_logits(self, detector, image: np.ndarray) -> Tensor:
        """``[K, ceil(H / s), ceil(W / s)]`` logits of the whole image from its tiles (``s`` =
        the post-processor's ``logit_stride``), each logit pixel from the tile that owns it."""
        stride = detector.postprocessor.logit_stride
        height, width = image.shape[:2]
        padding = detector.normalisation.padding_pixel().reshape(3, 1, 1)
        canvas = None
        for y0, y1, own_y0, own_y1 in tile_spans(height, self.tile, self.overlap):
            for x0, x1, own_x0, own_x1 in tile_spans(width, self.tile, self.overlap):
                tile_h = -(-(y1 - y0) // TILE_MULTIPLE) * TILE_MULTIPLE
                tile_w = -(-(x1 - x0) // TILE_MULTIPLE) * TILE_MULTIPLE
                batch = padding.expand(3, tile_h, tile_w).clone()
                batch[:, :y1 - y0, :x1 - x0] = torch.from_numpy(
                    np.ascontiguousarray(image[y0:y1, x0:x1].transpose(2, 0, 1)))
                logits = detector.backend(batch[None])[0]
                if canvas is None:
                    canvas = logits.new_empty(
                        (logits.shape[0], -(-height // stride), -(-width // stride)))
                rows = slice(own_y0 // stride, -(-own_y1 // stride))
                cols = slice(own_x0 // stride, -(-own_x1 // stride))
                canvas[:, rows,
                       cols] = logits[:, rows.start - y0 // stride:rows.stop - y0 // stride,
                                      cols.start - x0 // stride:cols.stop - x0 // stride]
        return canvas
