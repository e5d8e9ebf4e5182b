"""The train pipelines of the configs as a whole: the flagship's targets and crop are
PaddleOCR's (checked against Paddle's own code), the paper variant and the demo follow the
drawn words, and the variants differ from the flagship only by their named switches."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmengine import Config
from mmengine.dataset import Compose

from mmpse_ext.registry import TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
FLAGSHIP = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
PAPER = osp.join(REPO, 'configs', 'pse_r50vd_icdar15_paper.py')
DEMO = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')
QUADS = [[60, 60, 260, 80, 250, 140, 55, 120], [300, 200, 420, 190, 425, 240, 305, 250]]


def _train_steps(config_path):
    """The config's train pipeline as a list of step dicts."""
    return [dict(step) for step in Config.fromfile(config_path).train_dataloader.dataset.pipeline]


def _split(steps):
    """(geometric steps before the targets, targets step, crop step) of a recipe pipeline."""
    types = [s['type'] for s in steps]
    assert types[:3] == ['LoadImageFromFile', 'LoadOCRAnnotations', 'TorchVisionWrapper']
    assert types[-1] == 'mmpse_ext.PackPSEInputs'
    targets = types.index('mmpse_ext.PSETargets')
    assert types[targets + 1] == 'mmpse_ext.TextAwareRandomCrop'  # Paddle's order
    return steps[3:targets], steps[targets], steps[targets + 1]


def _scene(geo):
    """Two words, a ### word and twenty tiny words 6-12 px wide and 0.4-2 px tall, which the
    recipe's 2.1-3x enlargement (random scale, then short side 640) brings to the sizes whose
    unused 0.3 shrink vanishes; all quads, as Paddle needs."""
    small = [[x, y, x + w, y, x + w, y + h, x, y + h] for x, y, w, h in zip(
        np.tile(np.arange(10) * 18.0 + 30.7, 2), np.repeat([20.3, 170.6], 10),
        np.tile(np.linspace(6, 12, 10), 2), np.linspace(0.4, 2.0, 20))]
    dont_care = [[120, 260, 200, 258, 202, 280, 121, 282]]
    polygons = QUADS + dont_care + small
    ignored = [False, False, True] + [False] * len(small)
    return geo.drawn_polygon_results(300, 480, polygons, ignored)


def _paddle_targets(make_pse_gt, results, size):
    """PaddleOCR's MakePseGt (its own enlargement included) on the pipeline's image and
    polygons: ``(maps in our channel layout, mask, ignore tags, image)``."""
    data = dict(
        image=results['img'].copy(),
        polys=np.array([np.reshape(p, (-1, 2)) for p in results['gt_polygons']], np.float32),
        ignore_tags=[bool(t) for t in results['gt_ignored']])
    out = make_pse_gt(kernel_num=7, min_shrink_ratio=0.4, size=size)(data)
    kernels = np.concatenate([out['gt_text'][None], out['gt_kernels'][:6]]).astype(np.uint8)
    return kernels, out['mask'].astype(np.uint8), out['ignore_tags'], out['image']


def test_flagship_targets_and_crop_are_paddles(geo, paddle_make_pse_gt, paddle_random_crop,
                                               monkeypatch):
    steps = _train_steps(FLAGSHIP)
    geometric, targets_step, crop_step = _split(steps)
    # MakePseGt does the enlargement to the minimum short side itself
    assert geometric[-1]['type'] == 'mmpse_ext.MinShortSideResize'
    min_side = geometric[-1]['min_short_side']
    resize = TRANSFORMS.build(geometric[-1])
    targets, crop = TRANSFORMS.build(targets_step), TRANSFORMS.build(crop_step)
    ignored_by_unused_rate = dont_care_drawn = 0
    for seed in range(6):
        np.random.seed(seed)
        augmented = Compose(geometric[:-1])(_scene(geo))
        kernels, mask, tags, image = _paddle_targets(paddle_make_pse_gt, augmented, min_side)
        before = resize(copy.deepcopy(augmented))
        np.testing.assert_array_equal(before['img'], image)
        ours = targets(copy.deepcopy(before))
        for channel in range(7):
            np.testing.assert_array_equal(
                ours['gt_kernels'][channel],
                kernels[channel],
                err_msg=f'seed {seed}, channel {channel}')
        np.testing.assert_array_equal(ours['gt_train_mask'], mask)
        assert ours['gt_ignored'].tolist() == list(tags)

        # the rules the scene is there to exercise
        trained_only = TRANSFORMS.build(dict(targets_step, ignore_if_unused_rate_fails=False))(
            copy.deepcopy(before))
        ignored_by_unused_rate += int((ours['gt_ignored'] & ~trained_only['gt_ignored']).sum())
        dont_care_drawn += int((ours['gt_kernels'][0].astype(bool) & (mask == 0)).any())

        # the crop with both generators pinned to the same end of Paddle's range
        for end in ('low', 'high'):

            class PinnedRandom:
                random = staticmethod(lambda: 0.99)  # > 3/8: text-aware
                randint = staticmethod(lambda a, b: a if end == 'low' else b)

            monkeypatch.setattr(paddle_random_crop, 'random', PinnedRandom)
            paddle_crop = paddle_random_crop.RandomCropImgMask(
                size=crop_step['crop_size'][::-1],
                main_key='gt_text',
                crop_keys=['image', 'gt_text', 'mask'])
            expected = paddle_crop(dict(image=before['img'], gt_text=kernels[0], mask=mask))
            with monkeypatch.context() as pinned:
                pinned.setattr(np.random, 'random_sample', lambda *a: 0.0)
                pinned.setattr(
                    np.random, 'randint', lambda low, high=None: low if end == 'low' else high - 1)
                cropped = crop(copy.deepcopy(ours))
            np.testing.assert_array_equal(cropped['img'], expected['image'])
            np.testing.assert_array_equal(cropped['gt_kernels'][0], expected['gt_text'])
            np.testing.assert_array_equal(cropped['gt_train_mask'], expected['mask'])
    assert ignored_by_unused_rate >= 1, 'no word ignored only at the 0.3 rate'
    assert dont_care_drawn >= 1, 'no ignored word drawn in the text map'


@pytest.mark.parametrize('config_path', [PAPER, DEMO], ids=['paper', 'demo'])
@pytest.mark.parametrize('seed', range(4))
def test_paper_and_demo_text_maps_match_the_drawn_words(geo, config_path, seed):
    steps = _train_steps(config_path)
    np.random.seed(seed)
    out = Compose(steps[3:-1])(geo.drawn_polygon_results(300, 480, QUADS))
    crop = next(s['crop_size'] for s in steps if s['type'] == 'mmpse_ext.TextAwareRandomCrop')
    assert out['img'].shape[:2] == crop[::-1]
    white = out['img'][..., 0] > 127
    text = out['gt_kernels'][0].astype(bool)
    # The image is enlarged to the crop's short side first, so the text-aware window shows
    # most of both words (>= 13k pixels for seeds 0-7), never only a sliver.
    assert white.sum() > 5000
    assert geo.iou(white, text) > 0.95
    geo.assert_polygons_follow_pixels(out)


def test_mmocr_flip_moves_polygons_with_pixels(geo):
    flip = Compose([dict(type='RandomFlip', prob=1.0, direction='horizontal')])
    out = flip(geo.drawn_polygon_results(300, 480, QUADS))
    assert out['flip'] and out['gt_polygons'][0][0] == pytest.approx(480 - 60)
    geo.assert_polygons_follow_pixels(out)


#: The named switches a variant may set on the flagship's steps.
SWITCHES = {
    'mmpse_ext.PSETargets': {
        'full_text_map', 'ignore_if_unused_rate_fails', 'draw_ignored', 'rasterization',
        'split_pieces'
    },
    'mmpse_ext.TextAwareRandomCrop': {'crop_range'},
}
#: Sizes the demo scales down.
SIZES = {'scale_range', 'min_short_side', 'crop_size'}


@pytest.mark.parametrize(
    'config_path, allowed', [(PAPER, set()), (DEMO, SIZES)], ids=['paper', 'demo'])
def test_variants_differ_from_the_flagship_only_by_named_switches(config_path, allowed):
    flagship, variant = _train_steps(FLAGSHIP), _train_steps(config_path)
    assert [s['type'] for s in variant] == [s['type'] for s in flagship]
    for ours, theirs in zip(variant, flagship):
        keys = set(ours) | set(theirs)
        changed = {k for k in keys if ours.get(k) != theirs.get(k)}
        assert changed <= SWITCHES.get(ours['type'], set()) | allowed, (ours['type'], changed)
    paper_targets = next(s for s in variant if s['type'] == 'mmpse_ext.PSETargets')
    # a variant that names no switch is not a variant
    assert SWITCHES['mmpse_ext.PSETargets'] <= set(paper_targets)
