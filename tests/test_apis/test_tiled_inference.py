"""Tiled inference: the tiles cover the image once, a network that looks only at 4×4 blocks
gives the untiled detections exactly (words across tile borders found once), and the trained
model finds words in a large image with tiles that it loses when the whole image is shrunk to
the network-input cap."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpse_ext.apis import PSEDetector
from mmpse_ext.apis.scale_options import find_test_resize
from mmpse_ext.apis.tiled_inference import TiledInference, default_overlap, tile_spans

pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.mark.parametrize('length', [1, 31, 256, 257, 449, 700, 1000, 4099])
@pytest.mark.parametrize('tile, overlap', [(256, 64), (256, 32), (1024, 256), (96, 64)])
def test_tiles_cover_the_axis_and_own_each_pixel_once(length, tile, overlap):
    spans = tile_spans(length, tile, overlap)
    owner = np.zeros(length, int)
    for start, stop, own_start, own_stop in spans:
        assert start % 32 == 0 and 0 < stop - start <= tile and stop <= length
        assert start <= own_start < own_stop <= stop
        owner[own_start:own_stop] += 1
        # an owned pixel is at least overlap // 2 inside its tile, unless at the image border
        if start > 0:
            assert own_start - start >= overlap // 2
        if stop < length:
            assert stop - own_stop >= overlap // 2
    assert (owner == 1).all()
    for (_, stop, _, _), (start, _, _, _) in zip(spans, spans[1:]):
        assert stop - start == overlap  # neighbours share exactly the overlap


def test_bad_tiles_are_refused():
    assert default_overlap(1024) == 256 and default_overlap(64) == 32
    with pytest.raises(ValueError, match='multiple of 32'):
        TiledInference(1000)
    with pytest.raises(ValueError, match='overlap'):
        TiledInference(256, overlap=256)
    with pytest.raises(ValueError, match='cap'):
        TiledInference(4096, max_pixels=2048 * 2048, max_side=4096)


def _png_header(path, width, height):
    """A PNG that declares ``width x height`` and holds no pixel data."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' +
                chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
                chunk(b'IEND', b''))


def test_which_images_are_tiled(tmp_path):
    """By the long side, read from the header only; a header PIL refuses as a decompression
    bomb (> 179 MP) is large; an unreadable file is left to the plain path."""
    tiling = TiledInference(256)
    assert tiling.is_large(np.zeros((100, 257, 3), np.uint8))
    assert not tiling.is_large(np.zeros((256, 256, 3), np.uint8))
    _png_header(tmp_path / 'wide.png', 300, 10)
    _png_header(tmp_path / 'huge.png', 20000, 10000)
    _png_header(tmp_path / 'small.png', 200, 256)
    (tmp_path / 'text.png').write_text('not an image')
    assert tiling.is_large(str(tmp_path / 'wide.png'))
    assert tiling.is_large(str(tmp_path / 'huge.png'))
    assert not tiling.is_large(str(tmp_path / 'small.png'))
    assert not tiling.is_large(str(tmp_path / 'text.png'))


class BlockNetwork:
    """Stands in for the network: every logit channel = ±6 by whether a 4×4 block is mostly
    white. It sees nothing beyond its block, so stitched tiles must give the whole image's
    logits exactly."""

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        white = (images.mean(1, keepdim=True) > 127).float()
        return (F.avg_pool2d(white, 4) * 12 - 6).repeat(1, 7, 1, 1)


@pytest.fixture(scope='module')
def block_detectors(random_small_model):
    """(untiled detector at scale 1, detector with tile=256), both on :class:`BlockNetwork`."""
    config, checkpoint = random_small_model
    untiled = PSEDetector(config, checkpoint, device='cpu', limit_type='max', limit_side_len=4096)
    tiled = PSEDetector(config, checkpoint, device='cpu', tile=256)
    for detector in (untiled, tiled):
        detector.backend = BlockNetwork()
    return untiled, tiled


#: White "words" (x0, y0, x1, y1) on a 704 x 896 (h x w) image; with 256-pixel tiles (overlap
#: 64) tiles start at 0, 192, 384, 576 and the seams are at 224, 416, 608 on both axes.
WORDS = [
    (20, 20, 120, 50),  # inside the first tile
    (150, 100, 300, 130),  # across the seam at x = 224 and both tiles' borders
    (100, 300, 780, 340),  # across three seams
    (400, 200, 450, 240),  # on the x seam 416
    (590, 400, 640, 440),  # on the corner of seams x = 608, y = 416
    (200, 560, 260, 680),  # tall, across the y seam 608
    (820, 650, 890, 700)
]  # in the last tile, at the image border


def _words_image():
    image = np.zeros((704, 896, 3), np.uint8)
    for x0, y0, x1, y1 in WORDS:
        image[y0:y1, x0:x1] = 255
    return image


def test_block_network_tiles_give_the_untiled_detections(block_detectors):
    untiled, tiled = block_detectors
    image = _words_image()
    assert tiled.tiling.is_large(image)
    expected, got = untiled(image)[0], tiled(image)[0]
    assert len(expected.polygons) == len(WORDS)
    assert len(got.polygons) == len(expected.polygons)
    for ours, reference in zip(got.polygons, expected.polygons):
        np.testing.assert_array_equal(ours, reference)
    np.testing.assert_array_equal(got.scores, expected.scores)


def test_each_word_across_tile_borders_is_found_once(block_detectors):
    """Checked against the drawn rectangles, not the untiled run."""
    _, tiled = block_detectors
    detection = tiled(_words_image())[0]
    for x0, y0, x1, y1 in WORDS:
        hits = [
            p for p in detection.polygons
            if p[:, 0].min() < x1 and p[:, 0].max() > x0 and p[:, 1].min() < y1 and p[:,
                                                                                      1].max() > y0
        ]
        assert len(hits) == 1, (x0, y0, x1, y1)
        box = (hits[0][:, 0].min(), hits[0][:, 1].min(), hits[0][:, 0].max(), hits[0][:, 1].max())
        np.testing.assert_allclose(box, (x0, y0, x1 - 1, y1 - 1), atol=1.5)


def test_small_images_and_positions_with_tiling(block_detectors, tmp_path):
    """Images no larger than a tile take the plain path; sources and order are kept."""
    untiled, tiled = block_detectors
    large, small = _words_image(), _words_image()[:192, :224].copy()
    path = str(tmp_path / 'large.png')
    cv2.imwrite(path, large)
    results = tiled([small, path, large])
    assert [d.source for d in results] == [0, path, 2]
    assert not tiled.tiling.is_large(small) and tiled.tiling.is_large(path)
    # the small one: as the config's test pipeline sizes it (the demo's 'min' 320 enlarges it)
    reference = dict(tiled.predict_iter([small], tile=False))[0]
    assert len(results[0].polygons) == len(reference.polygons) == 2
    for ours, theirs in zip(results[0].polygons, reference.polygons):
        np.testing.assert_array_equal(ours, theirs)
    assert len(results[1].polygons) == len(results[2].polygons) == len(WORDS)


def test_unreadable_large_file_is_reported_not_tiled(block_detectors, tmp_path):
    """Its header says it is large, its data are cut: the plain path names it."""
    _, tiled = block_detectors
    path = tmp_path / 'cut.jpg'
    cv2.imwrite(str(path), (np.random.default_rng(0).random((704, 896, 3)) * 255).astype(np.uint8))
    path.write_bytes(path.read_bytes()[:2000])
    good = str(tmp_path / 'good.png')
    cv2.imwrite(good, _words_image())
    cut, found = tiled([str(path), good])
    assert tiled.tiling.is_large(str(path))
    assert cut.error is not None and cut.polygons == [] and cut.source == str(path)
    assert found.error is None and len(found.polygons) == len(WORDS)


def _find_matches(polygons, boxes, min_iou=0.5):
    """How many ground-truth ``boxes`` (x0, y0, x1, y1) a detected polygon covers (box IoU)."""
    found = 0
    for x0, y0, x1, y1 in boxes:
        for p in polygons:
            px0, py0, px1, py1 = p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()
            inter = max(0, min(x1, px1) - max(x0, px0)) * max(0, min(y1, py1) - max(y0, py0))
            union = (x1 - x0) * (y1 - y0) + (px1 - px0) * (py1 - py0) - inter
            if union > 0 and inter / union >= min_iou:
                found += 1
                break
    return found


def _icdar_boxes(gt_file):
    """Cared words of an ICDAR2015 ground-truth file as ``[4, 2]`` corner arrays."""
    words = []
    with open(gt_file, encoding='utf-8-sig') as f:
        for line in f:
            parts = line.strip().split(',')
            if len(parts) >= 9 and ','.join(parts[8:]) != '###':
                words.append(np.array(parts[:8], np.float64).reshape(4, 2))
    return words


@pytest.fixture(scope='module')
def mosaic(synthetic_root):
    """A 1600 × 1600 image tiled with the training scenes at the size the demo's test resize
    gives them (the text size the model works at), and their cared words' boxes."""
    from mmpse_ext.datasets.transforms import LimitSideResize
    rule = LimitSideResize(320, 'min', 32, max_pixels=None, max_side=None)
    images = sorted(glob.glob(osp.join(synthetic_root, 'ch4_training_images', '*.jpg')))
    canvas = np.full((1600, 1600, 3), 127, np.uint8)
    boxes, x, y, row_h = [], 16, 16, 0
    for path in images * 3:
        image = cv2.imread(path)
        h, w = image.shape[:2]
        new_w, new_h = rule.target_size(h, w)
        if x + new_w > 1600:
            x, y, row_h = 16, y + row_h + 16, 0
        if y + new_h > 1600:
            break
        canvas[y:y + new_h, x:x + new_w] = cv2.resize(image, (new_w, new_h))
        gt_file = osp.join(synthetic_root, 'ch4_training_localization_transcription_gt',
                           'gt_' + osp.basename(path)[:-4] + '.txt')
        for corners in _icdar_boxes(gt_file):
            scaled = corners * (new_w / w, new_h / h) + (x, y)
            boxes.append((*scaled.min(0), *scaled.max(0)))
        row_h, x = max(row_h, new_h), x + new_w + 16
    assert len(boxes) >= 20
    return canvas, boxes


def _inside(polygons, box):
    """The polygons lying mostly (half their box or more) inside ``box``."""
    x0, y0, x1, y1 = box
    found = []
    for p in polygons:
        px0, py0, px1, py1 = p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()
        inter = max(0, min(x1, px1) - max(x0, px0)) * max(0, min(y1, py1) - max(y0, py0))
        if inter >= 0.5 * (px1 - px0) * (py1 - py0):
            found.append(p)
    return found


@pytest.mark.slow
def test_large_image_words_found_with_tiles_and_lost_when_shrunk(trained_model, mosaic):
    """The cap shrinks the mosaic 4× (as it would shrink a poster beyond 4 megapixels): no
    word is found. In 320-pixel tiles at its own size the words are found as the network finds
    them on the whole image at once (the reference without seams); a word across a seam is
    one detection, not a piece per tile."""
    config, checkpoint = trained_model
    image, boxes = mosaic
    capped = Config.fromfile(config)
    find_test_resize(capped).update(max_pixels=400 * 400)
    with pytest.warns(UserWarning, match='input cap'):
        shrunk = PSEDetector(capped, checkpoint, device='cpu')(image)[0]
    tiled_detector = PSEDetector(capped, checkpoint, device='cpu', tile=320)
    tiled = tiled_detector(image)[0]
    whole = PSEDetector(config, checkpoint, device='cpu')(image)[0]  # 2.6 MP: under the cap
    assert _find_matches(shrunk.polygons, boxes) <= 1
    assert _find_matches(tiled.polygons, boxes) >= 8
    assert _find_matches(tiled.polygons, boxes) >= _find_matches(whole.polygons, boxes) - 1

    seams = [span[2] for span in tile_spans(1600, 320, tiled_detector.tiling.overlap)[1:]]
    found_once = 0
    for box in boxes:
        x0, y0, x1, y1 = box
        if not any(x0 < s < x1 or y0 < s < y1 for s in seams):
            continue
        if _find_matches(tiled.polygons, [box]):
            pieces = len(_inside(tiled.polygons, box))
            assert pieces == len(_inside(whole.polygons, box)), box
            found_once += pieces == 1
    assert found_once >= 3
