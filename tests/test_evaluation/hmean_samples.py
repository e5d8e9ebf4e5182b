"""Data samples and helpers shared by the ICDAR2015HmeanMetric tests (imported by them; the
folder is put on ``sys.path`` by tests/test_evaluation/conftest.py)."""
import numpy as np
import pytest
import torch

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric


def rect(x0, y0, x1, y1):
    """A flat axis-aligned quad, clockwise in image coordinates."""
    return np.array([x0, y0, x1, y0, x1, y1, x0, y1], dtype=np.float32)


def sample(gts=(), preds=(), ignored=None, scores=None, img_path=None):
    """A data sample as the evaluator hands it to metrics (``DataSample.to_dict()``)."""
    ignored = [False] * len(gts) if ignored is None else ignored
    scores = [1.0] * len(preds) if scores is None else scores
    data = dict(
        gt_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in gts],
            ignored=torch.tensor(ignored, dtype=torch.bool).reshape(-1)),
        pred_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in preds],
            scores=torch.tensor(scores, dtype=torch.float32).reshape(-1)))
    if img_path is not None:
        data['img_path'] = img_path
    return data


def evaluate(samples, **kwargs):
    metric = ICDAR2015HmeanMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def assert_scores(result, precision, recall, hmean=None):
    if hmean is None:
        hmean = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    assert result['precision'] == pytest.approx(precision)
    assert result['recall'] == pytest.approx(recall)
    assert result['hmean'] == pytest.approx(hmean)


def random_images(seed, num_images=40, noise=(1.0, 4.0)):
    """Clustered, overlapping float quads: words, near-duplicates, bow-ties, '###' regions."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(num_images):
        gts, preds = [], []
        for centre in rng.uniform(0, 200, (int(rng.integers(0, 9)), 2)):
            w, h, angle = rng.uniform(10, 40), rng.uniform(5, 15), rng.uniform(-0.5, 0.5)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rot.T
            gts.append((corners + centre).reshape(-1))
            for _ in range(int(rng.integers(0, 3))):  # 0, 1 or 2 detections per word
                jitter = rng.normal(0, rng.choice(noise), (4, 2))
                shift = rng.normal(0, 3, 2)
                quad = corners * rng.uniform(0.8, 1.3) + centre + shift + jitter
                if rng.uniform() < 0.1:
                    quad = quad[[0, 2, 1, 3]]  # a bow-tie
                preds.append(quad.reshape(-1))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.uniform(0, 200, 2)
            preds.append(rect(x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 15)))
        ignored = (rng.uniform(size=len(gts)) < 0.2).tolist()
        images.append(sample(gts, preds, ignored, rng.uniform(0, 1, len(preds)).tolist()))
    return images
