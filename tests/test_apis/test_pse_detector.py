"""PSEDetector on a trained model: the PyTorch backend reproduces the test tool's predictions,
ONNX Runtime reproduces PyTorch (logits to 1e-4, identical polygons, equal hmean), and the API
handles folders with nested duplicate names, arrays, batching and bad input."""
import glob
import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData

from mmpse_ext.apis import PSEDetector, inference_pipelines


@pytest.fixture(scope='module')
def detectors(exported_model):
    config, checkpoint, onnx_file, _ = exported_model
    return (PSEDetector(config, checkpoint, backend='pytorch', device='cpu', batch_size=2),
            PSEDetector(config, onnx_file, backend='onnxruntime', device='cpu', batch_size=2))


@pytest.fixture(scope='module')
def test_images(synthetic_root):
    images = sorted(glob.glob(osp.join(synthetic_root, 'ch4_test_images', '*.jpg')))
    assert len(images) == 4
    return images


def same_detections(a, b) -> bool:
    return (len(a.polygons) == len(b.polygons)
            and all(np.array_equal(p, q) for p, q in zip(a.polygons, b.polygons)))


@pytest.mark.slow
def test_pytorch_backend_gives_the_test_tools_predictions(detectors, test_images):
    """tools/test.py runs ``model.test_step`` (data preprocessor, network, post-processor) on
    one image at a time; the detector pads and normalises itself and batches images of one
    size."""
    torch_detector, _ = detectors
    model = torch_detector.backend.network.detector
    file_pipeline, _ = inference_pipelines(torch_detector.cfg)
    detections = torch_detector(test_images)
    assert [d.source for d in detections] == test_images
    for detection in detections:
        data = pseudo_collate([file_pipeline(dict(img_path=detection.source))])
        with torch.no_grad():
            sample = model.test_step(data)[0]
        expected = [
            np.asarray(p, np.float32).reshape(-1, 2) for p in sample.pred_instances.polygons
        ]
        assert len(expected) == len(detection.polygons)
        for got, want in zip(detection.polygons, expected):
            np.testing.assert_array_equal(got, want)
        # the network may pick other kernels for a batch of 2: scores equal to float32 rounding
        np.testing.assert_allclose(
            detection.scores, sample.pred_instances.scores.numpy(), rtol=1e-6, atol=0)
    assert sum(len(d.polygons) for d in detections) >= 3  # the comparison compared something


@pytest.mark.slow
def test_onnxruntime_logits_match_pytorch(detectors, test_images):
    torch_detector, ort_detector = detectors
    compared = 0
    for batch in torch_detector.batches(test_images):
        expected = torch_detector.backend(batch.images)
        got = ort_detector.backend(batch.images)
        assert got.shape == expected.shape
        assert (got - expected).abs().max().item() <= 1e-4
        compared += len(batch.images)
    assert compared == len(test_images)


@pytest.mark.slow
def test_onnxruntime_gives_the_same_polygons(detectors, test_images):
    torch_detector, ort_detector = detectors
    for expected, got in zip(torch_detector(test_images), ort_detector(test_images)):
        assert got.source == expected.source
        assert same_detections(got, expected), got.source
        np.testing.assert_allclose(got.scores, expected.scores, rtol=0, atol=1e-5)


def evaluate_like_test_tool(detector: PSEDetector) -> dict:
    """The test tool's evaluation: the config's test dataset (ground truth) and
    ``test_evaluator``, fed with the detector's predictions instead of ``test_step``'s."""
    from mmengine.evaluator import Evaluator
    from mmocr.registry import DATASETS
    cfg = detector.cfg
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    evaluator = Evaluator(cfg.test_evaluator)
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        detection = detector(sample.img_path)[0]
        sample.pred_instances = InstanceData(
            polygons=[p.reshape(-1) for p in detection.polygons],
            scores=torch.from_numpy(detection.scores))
        evaluator.process([sample])
    return evaluator.evaluate(len(dataset))


@pytest.mark.slow
def test_hmean_is_the_same_for_both_backends(detectors):
    torch_metrics = evaluate_like_test_tool(detectors[0])
    ort_metrics = evaluate_like_test_tool(detectors[1])
    assert torch_metrics == ort_metrics
    assert torch_metrics['icdar2015/hmean'] > 0  # the trained model finds words


@pytest.fixture
def nested_duplicates(tmp_path, test_images):
    """``a/img_1.jpg`` and ``b/c/img_1.jpg``: different images under the same file name."""
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b' / 'c').mkdir(parents=True)
    shutil.copy(test_images[1], tmp_path / 'a' / 'img_1.jpg')
    shutil.copy(test_images[3], tmp_path / 'b' / 'c' / 'img_1.jpg')
    return tmp_path


@pytest.mark.slow
def test_folder_with_nested_duplicate_names(detectors, nested_duplicates, test_images):
    torch_detector, _ = detectors
    detections = torch_detector(str(nested_duplicates))
    sources = [d.source for d in detections]
    assert sources == [
        str(nested_duplicates / 'a' / 'img_1.jpg'),
        str(nested_duplicates / 'b' / 'c' / 'img_1.jpg')
    ]
    for detection, original in zip(detections, (test_images[1], test_images[3])):
        assert same_detections(detection, torch_detector(original)[0])


@pytest.mark.slow
def test_arrays_and_batches_give_what_single_files_give(exported_model, detectors, test_images):
    config, checkpoint, _, _ = exported_model
    torch_detector, _ = detectors
    by_file = torch_detector(test_images)
    arrays = [
        cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION) for path in test_images
    ]
    one_by_one = PSEDetector(config, checkpoint, device='cpu', batch_size=1)
    by_array = one_by_one(arrays)
    assert [d.source for d in by_array] == [0, 1, 2, 3]
    for a, b in zip(by_file, by_array):
        assert same_detections(a, b)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6, atol=0)
    # Three images of one size form one batch of 3; the results are those of batch size 1.
    same_size = [
        arrays[0],
        np.ascontiguousarray(arrays[0][:, ::-1]), arrays[1],
        np.ascontiguousarray(arrays[0][::-1])
    ]
    batched = PSEDetector(config, checkpoint, device='cpu', batch_size=4)
    assert sorted(len(b.images) for b in batched.batches(same_size)) == [1, 3]
    for a, b in zip(batched(same_size), one_by_one(same_size)):
        assert same_detections(a, b)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6, atol=0)
    grey = cv2.cvtColor(arrays[0], cv2.COLOR_BGR2GRAY)
    assert len(one_by_one([grey])) == 1


@pytest.mark.slow
def test_bad_arguments_raise_clear_errors(exported_model, detectors, tmp_path):
    config, checkpoint, onnx_file, _ = exported_model
    with pytest.raises(ValueError, match="backend must be one of .*'tensorrt'"):
        PSEDetector(config, checkpoint, backend='tensorrt')
    with pytest.raises(ValueError, match='batch_size must be >= 1, got 0'):
        PSEDetector(config, checkpoint, batch_size=0)
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        PSEDetector(config, str(tmp_path / 'absent.pth'), device='cpu')
    with pytest.raises(FileNotFoundError, match='absent.onnx'):
        PSEDetector(config, str(tmp_path / 'absent.onnx'), backend='onnxruntime', device='cpu')
    with pytest.raises(FileNotFoundError, match='nowhere.py'):
        PSEDetector(str(tmp_path / 'nowhere.py'), checkpoint)
    torch_detector, _ = detectors
    with pytest.raises(ValueError, match=r'input 0: expected a uint8 BGR image .* float32'):
        torch_detector(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(TypeError, match='input 0: expected an image path or a numpy array'):
        torch_detector([3])
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        torch_detector(str(tmp_path / 'no_such_dir'))


@pytest.mark.slow
def test_infer_tool_on_onnx_writes_the_detectors_results(exported_model, detectors,
                                                         nested_duplicates, tmp_path, python_tool):
    """tools/infer.py with an .onnx checkpoint picks ONNX Runtime by itself; its JSON holds the
    API's polygons (rounded to 2 decimals) under the nested names."""
    config, _, onnx_file, _ = exported_model
    _, ort_detector = detectors
    out_dir = tmp_path / 'out'
    result = python_tool([
        'tools/infer.py',
        str(nested_duplicates), '--config', config, '--checkpoint', onnx_file, '--out-dir',
        str(out_dir), '--no-vis'
    ])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    detections = ort_detector(str(nested_duplicates))
    assert result.stdout.strip().splitlines()[-1] == (
        f'2 images, {sum(len(d.polygons) for d in detections)} detections -> {out_dir}/'
        '{preds,submit}')
    for detection, name in zip(detections, ('a/img_1', 'b/c/img_1')):
        with open(out_dir / 'preds' / f'{name}.json') as f:
            written = json.load(f)
        assert written['img_path'] == detection.source
        assert written['polygons'] == [p.reshape(-1).round(2).tolist() for p in detection.polygons]
    assert not (out_dir / 'vis').exists()
