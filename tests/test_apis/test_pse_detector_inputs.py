"""PSEDetector and tools/infer.py on what users have: every readable kind of file is answered
as its decoded pixels are, every unreadable one is named with its reason and does not cost the
others their results; EXIF orientation is ignored by default and honoured on request, with
polygons in the orientation a photo viewer shows."""
import glob
import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from image_kinds import write_image_kinds
from mmengine.config import Config
from PIL import Image

from mmpse_ext.apis import ConfigError, PSEDetector, UnreadableImageError
from mmpse_ext.apis.pse_detector import with_exif_orientation

EXIF_ORIENTATION_TAG = 0x0112
# EXIF orientation 6: the stored pixels are the scene turned 90° counter-clockwise; viewers turn
# them 90° clockwise to show it.
ROTATE_90_CW_TO_SHOW = 6


@pytest.fixture(scope='module')
def detector(trained_model):
    config, checkpoint = trained_model
    return PSEDetector(config, checkpoint, device='cpu', batch_size=2)


@pytest.fixture(scope='module')
def scene(synthetic_root):
    """A synthetic test scene the trained model finds words in (BGR)."""
    path = sorted(glob.glob(osp.join(synthetic_root, 'ch4_test_images', '*.jpg')))[0]
    return cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)


@pytest.fixture(scope='module')
def image_kinds(tmp_path_factory, scene):
    return write_image_kinds(str(tmp_path_factory.mktemp('kinds')), scene)


def write_exif_rotated_jpeg(path: str, scene_bgr: np.ndarray) -> None:
    """A JPEG holding ``scene_bgr`` turned 90° counter-clockwise, tagged so that viewers show
    it upright (as phones store photos taken in portrait)."""
    sensor = np.ascontiguousarray(np.rot90(scene_bgr, k=1))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = ROTATE_90_CW_TO_SHOW
    Image.fromarray(sensor[..., ::-1]).save(path, exif=exif.tobytes(), quality=95)


def same_polygons(a, b) -> bool:
    return (len(a.polygons) == len(b.polygons)
            and all(np.array_equal(p, q) for p, q in zip(a.polygons, b.polygons)))


def decoded(path: str) -> np.ndarray:
    """The file's pixels as OpenCV decodes them in sensor orientation (BGR, 8 bits)."""
    with open(path, 'rb') as f:  # np.fromfile + imdecode: any path
        data = np.frombuffer(f.read(), np.uint8)
    return cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)


def test_bad_files_are_named_and_the_others_answered(detector, image_kinds):
    readable, unreadable = image_kinds
    items = sorted(readable + list(unreadable))
    results = detector(items)
    assert [r.source for r in results] == items
    for path, result in zip(items, results):
        if path in unreadable:
            assert result.error == unreadable[path], path
            assert result.polygons == [] and result.scores.shape == (0, )
        else:
            assert result.error is None, path
            # grey, RGBA, 16-bit, TIFF, WebP, ... answered as their decoded pixels are
            expected = detector(decoded(path))[0]
            assert same_polygons(result, expected), path
            np.testing.assert_allclose(result.scores, expected.scores, rtol=1e-6, atol=0)
    assert sum(len(r.polygons) for r in results) >= len(readable)  # words found
    # the two images called same.jpg (one mirrored) are kept apart
    same = [r for r in results if osp.basename(r.source) == 'same.jpg']
    assert len(same) == 2 and not same_polygons(*same)


def test_on_error_raise_stops_at_the_first_bad_file(trained_model, image_kinds):
    config, checkpoint = trained_model
    readable, unreadable = image_kinds
    strict = PSEDetector(config, checkpoint, device='cpu', on_error='raise')
    first_bad = sorted(unreadable)[0]
    with pytest.raises(UnreadableImageError) as caught:
        strict(sorted(readable + list(unreadable)))
    assert (caught.value.path, caught.value.reason) == (first_bad, unreadable[first_bad])
    with pytest.raises(ValueError, match="on_error must be one of .*'ignore'"):
        PSEDetector(config, checkpoint, device='cpu', on_error='ignore')


def test_exif_orientation_ignored_by_default_honoured_on_request(trained_model, detector, scene,
                                                                 tmp_path):
    config, checkpoint = trained_model
    photo = str(tmp_path / 'portrait.jpg')
    write_exif_rotated_jpeg(photo, scene)
    sensor = decoded(photo)
    shown = np.ascontiguousarray(np.rot90(sensor, k=-1))  # what a viewer shows
    assert shown.shape == scene.shape
    # default (the config's color_type='color_ignore_orientation'): sensor orientation
    assert detector.exif_orientation is False
    assert same_polygons(detector(photo)[0], detector(sensor)[0])
    # honoured: the polygons of the upright image, in its coordinates
    upright = PSEDetector(config, checkpoint, device='cpu', exif_orientation=True)
    assert upright.exif_orientation is True
    got, expected = upright(photo)[0], detector(shown)[0]
    assert len(expected.polygons) >= 1 and same_polygons(got, expected)
    # the same choice made in the config (the loader's color_type) is the default there
    cfg = Config.fromfile(config)
    cfg.test_dataloader.dataset.pipeline[0]['color_type'] = 'color'
    from_config = PSEDetector(cfg, checkpoint, device='cpu')
    assert from_config.exif_orientation is True
    assert same_polygons(from_config(photo)[0], expected)
    ignoring = PSEDetector(cfg, checkpoint, device='cpu', exif_orientation=False)
    assert same_polygons(ignoring(photo)[0], detector(sensor)[0])


def test_exif_choice_on_the_loader_step():
    loader = dict(type='LoadImageFromFile', color_type='color_ignore_orientation')
    assert with_exif_orientation(loader, True, 'c.py')['color_type'] == 'color'
    assert with_exif_orientation(loader, False,
                                 'c.py')['color_type'] == ('color_ignore_orientation')
    grey = dict(type='LoadImageFromFile', color_type='grayscale')
    assert with_exif_orientation(grey, False,
                                 'c.py')['color_type'] == ('grayscale_ignore_orientation')
    with pytest.raises(ConfigError, match=r"c.py.*color_type='unchanged'.*cannot apply EXIF"):
        with_exif_orientation(dict(type='LoadImageFromFile', color_type='unchanged'), True, 'c.py')


@pytest.mark.slow
def test_infer_tool_on_a_folder_of_odd_files(trained_model, detector, image_kinds, scene, tmp_path,
                                             python_tool):
    """tools/infer.py: outputs for every readable file, one warning per unreadable one with its
    reason, a closing count, exit status 3, no traceback; --exif-orientation honour reaches
    the detector."""
    config, checkpoint = trained_model
    kinds_folder = osp.dirname(image_kinds[0][0])
    folder = str(tmp_path / 'inputs')
    shutil.copytree(kinds_folder, folder)
    readable = [osp.join(folder, osp.relpath(path, kinds_folder)) for path in image_kinds[0]]
    unreadable = {
        osp.join(folder, osp.relpath(path, kinds_folder)): reason
        for path, reason in image_kinds[1].items()
    }
    photo = osp.join(folder, 'portrait.jpg')
    write_exif_rotated_jpeg(photo, scene)
    readable = sorted(readable + [photo])
    out_dir = tmp_path / 'out'
    result = python_tool([
        'tools/infer.py', folder, '--config', config, '--checkpoint', checkpoint, '--out-dir',
        str(out_dir), '--exif-orientation', 'honour'
    ])
    assert result.returncode == 3, (result.stdout + result.stderr)[-4000:]
    assert 'Traceback' not in result.stderr + result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith('WARNING')]
    assert sorted(warnings) == sorted(f'WARNING: skipped {path}: {reason}'
                                      for path, reason in unreadable.items())
    summary = result.stderr.strip().splitlines()[-1]
    total = len(readable) + len(unreadable)
    assert summary == (f'{total} inputs: {len(readable)} done, {len(unreadable)} unreadable: ' +
                       ', '.join(f'{osp.basename(path)} ({unreadable[path]})'
                                 for path in sorted(unreadable)))
    upright = PSEDetector(config, checkpoint, device='cpu', exif_orientation=True)
    detections = 0
    for path in readable:
        name = osp.splitext(osp.relpath(path, folder))[0]
        with open(out_dir / 'preds' / f'{name}.json') as f:
            written = json.load(f)
        expected = upright(path)[0]
        assert written['polygons'] == [p.reshape(-1).round(2).tolist()
                                       for p in expected.polygons], path
        assert (out_dir / 'vis' / f'{name}.jpg').is_file()
        detections += len(expected.polygons)
    shown = cv2.imread(str(out_dir / 'vis' / 'portrait.jpg'))
    assert shown.shape == scene.shape  # drawn upright, as the polygons are
    assert len(list((out_dir / 'preds').rglob('*.json'))) == len(readable)
    assert result.stdout.strip().splitlines()[-1] == (
        f'{len(readable)} images, {detections} detections -> {out_dir}/{{preds,submit,vis}}')
