"""Our tools/infer.py on the checkpoint MMOCR's own tools/train.py wrote from the README's plugin
snippet: the last step of an existing MMOCR project's route (the floor job runs it on torch 2.0).

MMOCR's ``TextDetInferencer`` on the same config and checkpoint is the reference.
"""
import glob
import json
import os.path as osp
import sys

import numpy as np
import pytest
from mmocr_tool_runs import REPO, run_command

KEEP_EVERY_INSTANCE_CONFIG = '''_base_ = [{base!r}]
model = dict(det_head=dict(postprocessor=dict(
    score_threshold=0.0, min_kernel_area=0, min_text_area=0)))
'''


@pytest.mark.slow
def test_our_infer_py_on_the_checkpoint_of_mmocr_train(stock_trained, compat_data_root, tmp_path):
    from mmocr.apis import TextDetInferencer

    config = tmp_path / 'keep_every_instance.py'
    config.write_text(KEEP_EVERY_INSTANCE_CONFIG.format(base=stock_trained['dumped_config']))
    images = osp.join(compat_data_root, 'ch4_test_images')
    out_dir = tmp_path / 'infer'
    result = run_command([
        sys.executable,
        osp.join(REPO, 'tools', 'infer.py'), images, '--config',
        str(config), '--checkpoint', stock_trained['checkpoint'], '--out-dir',
        str(out_dir), '--no-vis', '--device', 'cpu'
    ],
                         cwd=str(tmp_path))
    assert result.stdout.strip().splitlines()[-1].startswith('2 images, ')
    reference = TextDetInferencer(
        model=str(config), weights=stock_trained['checkpoint'], device='cpu')
    written = sorted(glob.glob(str(out_dir / 'preds' / '*.json')))
    assert [osp.basename(path) for path in written] == ['img_1.json', 'img_2.json']
    total = 0
    for path in written:
        with open(path) as f:
            ours = json.load(f)['polygons']
        image = osp.join(images, osp.basename(path).replace('.json', '.jpg'))
        [expected] = reference(image)['predictions']
        assert len(ours) == len(expected['polygons'])
        for got, want in zip(ours, expected['polygons']):  # infer.py writes 2 decimals
            np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want), atol=6e-3)
        total += len(ours)
    assert total > 0


@pytest.mark.slow
def test_export_onnx_py_on_the_checkpoint_of_mmocr_train(stock_trained, tmp_path):
    """tools/model_converters/export_onnx.py with this torch's default exporter (dynamo from
    torch 2.6, TorchScript before): its onnx checker and ONNX Runtime vs PyTorch check pass."""
    pytest.importorskip('onnxruntime', reason='onnxruntime is not installed')
    from mmpse_ext.apis.onnx_export import default_exporter
    out = tmp_path / 'stock.onnx'
    result = run_command([
        sys.executable,
        osp.join(REPO, 'tools', 'model_converters', 'export_onnx.py'),
        stock_trained['dumped_config'], stock_trained['checkpoint'],
        str(out)
    ],
                         cwd=str(tmp_path))
    line = result.stdout.strip().splitlines()[-1]
    assert f'{default_exporter()} exporter); onnx checker OK; ONNX Runtime vs PyTorch' in line
    assert out.stat().st_size > 0
