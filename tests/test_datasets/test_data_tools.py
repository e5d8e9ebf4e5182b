"""Smoke tests of the data tools (tools/dataset_converters/make_synthetic_icdar15.py,
visualize_targets.py, benchmark_pipeline.py) run as users run them."""
import os.path as osp
import subprocess
import sys

import cv2
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, *args],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          check=True)


def test_make_synthetic_cli_writes_all_formats(tmp_path):
    out = tmp_path / 'syn'
    proc = _run('tools/dataset_converters/make_synthetic_icdar15.py', '--out', str(out),
                '--num-train', '2', '--num-test', '1', '--size', '160', '200', '--seed', '4')
    assert 'train: 2/2 images' in proc.stderr and 'test: 1/1 images' in proc.stderr
    for name in ('train_icdar2015_label.txt', 'textdet_test.json',
                 'ch4_training_localization_transcription_gt/gt_img_2.txt',
                 'ch4_test_images/img_1.jpg'):
        assert (out / name).exists(), name


def test_make_synthetic_cli_bad_size_is_one_line(tmp_path):
    bad = subprocess.run([
        sys.executable, 'tools/dataset_converters/make_synthetic_icdar15.py', '--out',
        str(tmp_path / 'syn'), '--size', '300', '200'
    ],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert bad.returncode == 1 and 'Traceback' not in bad.stderr
    assert bad.stderr.strip() == ('make_synthetic_icdar15.py: error: size_range must be (low, '
                                  'high) with 16 <= low <= high, got (300, 200)')


def test_visualize_targets_writes_an_image(tmp_path, synthetic_root):
    png = tmp_path / 'targets.png'
    proc = _run('tools/visualizations/visualize_targets.py', '--num', '2', '--out', str(png),
                '--cfg-options', f'train_dataloader.dataset.data_root={synthetic_root}')
    assert proc.stdout.count('kernel areas') == 2
    img = cv2.imread(str(png))
    assert img is not None and img.shape[0] == 2 * (360 + 8)


@pytest.mark.slow
def test_benchmark_pipeline_runs_and_checks_its_baseline():
    # Timings are the script's business (a timed assertion here would test the machine); the
    # test checks that it runs, times both, and that the baseline it times makes our maps.
    proc = _run('tools/analysis_tools/benchmark_pipeline.py', '--images', '2', '--repeats', '1')
    assert "our targets equal the baseline's on every pixel: True" in proc.stdout
    assert 'speed-up vs baseline' in proc.stdout
    assert 'images/s per worker' in proc.stdout and 'load average' in proc.stdout
