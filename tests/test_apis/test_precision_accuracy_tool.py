"""tools/analysis_tools/precision_accuracy.py on the session's trained model: the fp32 row is
its own reference, noise of std 0 reproduces fp32 exactly, the logit RMS column reads back the
std of the noise it injected, and the exit status follows the gates."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_precision_accuracy_rows(trained_model, synthetic_root, tmp_path):
    config, checkpoint = trained_model
    table_file = tmp_path / 'table.json'
    result = subprocess.run([
        sys.executable, 'tools/analysis_tools/precision_accuracy.py', config, checkpoint,
        '--data-root', synthetic_root, '--precisions', 'bf16', '--noise-floor', '0', '0.01',
        '--noise-seeds', '1', '--threads', '1', '--json',
        str(table_file)
    ],
                            cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=REPO),
                            capture_output=True,
                            text=True,
                            timeout=900)
    rows = {row['precision']: row for row in json.loads(table_file.read_text())}
    assert list(rows) == ['fp32', 'bf16', 'fp32 + noise 0 #0', 'fp32 + noise 0.01 #0']
    fp32, bf16 = rows['fp32'], rows['bf16']
    assert fp32['hmean_delta'] == 0 and fp32['text_logit_rms'] == 0 and fp32['mean_iou'] == 1
    assert fp32['fp32_polygons'] > 0  # the comparison compared something
    silent = rows['fp32 + noise 0 #0']
    assert (silent['hmean'], silent['text_logit_rms'], silent['matched'],
            silent['mean_iou']) == (fp32['hmean'], 0, fp32['fp32_polygons'], 1)
    assert rows['fp32 + noise 0.01 #0']['text_logit_rms'] == pytest.approx(0.01, rel=0.05)
    assert 0 < bf16['text_logit_rms'] < 0.05
    assert rows['fp32 + noise 0.01 #0']['gate'] == ''  # the noise rows have no gate
    failed = bf16['gate'].startswith('FAIL')
    assert result.returncode == (1 if failed else 0), result.stderr[-2000:]
