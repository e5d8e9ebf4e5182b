"""The curved-text configs: the flagship's machinery unchanged, the official PSENet's test-time
resize (``scale_aligned_short``) and training window (``random_crop_padding``) in behaviour."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FLAGSHIP = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
CURVED = {
    name: osp.join(REPO, 'configs', f'pse_r50vd_{name}.py')
    for name in ('ctw1500', 'totaltext')
}

#: what the curved configs share with the flagship (the training machinery)
MACHINERY = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg', 'test_cfg', 'sync_bn',
             'auto_scale_lr', 'model_wrapper_cfg', 'env_cfg', 'default_scope')


@pytest.fixture(autouse=True)
def mmocr_scope():
    import mmpse_ext  # noqa: F401  (registers our transforms)
    init_default_scope('mmocr')


@pytest.mark.parametrize('name', sorted(CURVED))
def test_model_and_machinery_are_the_flagships(name):
    flagship, curved = Config.fromfile(FLAGSHIP), Config.fromfile(CURVED[name])
    for key in MACHINERY:
        assert curved.get(key) == flagship.get(key), key
    assert curved.train_dataloader.batch_size == flagship.train_dataloader.batch_size
    model, flagship_model = curved.model.to_dict(), flagship.model.to_dict()
    post, flagship_post = (m['det_head'].pop('postprocessor') for m in (model, flagship_model))
    assert model == flagship_model
    # only the output and its score threshold differ from the flagship's post-processing
    changed = {k for k in set(post) | set(flagship_post) if post.get(k) != flagship_post.get(k)}
    assert changed <= {'text_repr_type', 'score_threshold'} and post['text_repr_type'] == 'poly'


def _official_scale_aligned_short(h, w, short_size=736):
    """whai362/PSENet dataset/psenet/psenet_ctw.py ``scale_aligned_short``, as a size rule."""
    scale = short_size * 1.0 / min(h, w)
    h, w = int(h * scale + 0.5), int(w * scale + 0.5)
    return h + (-h) % 32, w + (-w) % 32


@pytest.mark.parametrize('name', sorted(CURVED))
@pytest.mark.parametrize('hw', [(500, 700), (1200, 900), (333, 1000), (736, 1280)])
def test_test_resize_is_the_officials(tmp_path, name, hw):
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, np.zeros((*hw, 3), np.uint8))
    pipeline = Config.fromfile(CURVED[name]).test_dataloader.dataset.pipeline
    out = Compose(pipeline[:2])(dict(img_path=path))
    assert out['img'].shape[:2] == _official_scale_aligned_short(*hw)
    sy = out['img'].shape[0] / hw[0]
    assert out['scale_factor'][1] == pytest.approx(sy)  # predictions map back by this


@pytest.mark.parametrize('seed', range(3))
def test_training_window_is_736_and_padding_is_left_out(tmp_path, seed):
    np.random.seed(seed)
    h, w = 600, 900  # short side 600: the draw 736 x U(0.7, 1.3) is often below the window
    path = str(tmp_path / 'img.png')
    img = np.full((h, w, 3), 90, np.uint8)
    cv2.rectangle(img, (100, 200), (700, 300), (250, 250, 250), -1)
    cv2.imwrite(path, img)
    pipeline = Config.fromfile(CURVED['ctw1500']).train_dataloader.dataset.pipeline
    loaded = dict(
        img_path=path,
        instances=[
            dict(
                polygon=[100.0, 200, 700, 200, 700, 300, 100, 300],
                bbox=[100.0, 200, 700, 300],
                bbox_label=0,
                ignore=False)
        ])
    before_crop = Compose(pipeline[:7])(dict(loaded))
    short = min(before_crop['img'].shape[:2])
    assert 0.7 * 736 - 1 <= short <= 1.3 * 736 + 32
    assert before_crop['img'].shape[0] % 32 == 0 and before_crop['img'].shape[1] % 32 == 0
    np.random.seed(seed)
    packed = Compose(pipeline)(dict(loaded))
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape[-2:]) == (736, 736)
    assert tuple(sample.gt_kernels.shape) == (7, 736, 736)
    if short < 736:  # padded rows are zeros in the image and left out of the loss
        assert not packed['inputs'][:, short:].any()
        assert not sample.gt_train_mask[short:].any()
