"""Write synthetic ground truth in the three formats :class:`ICDAR2015Dataset` reads."""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import cv2
import numpy as np

from .scene import TextRegion

#: Directory / file names per split: PaddleOCR's doc layout (images shared by all formats),
#: the raw ICDAR2015 release names, MMOCR's dataset preparer names.
LAYOUT = {
    'train':
    dict(
        img_dir='icdar_c4_train_imgs',
        icdar_img_dir='ch4_training_images',
        icdar_gt_dir='ch4_training_localization_transcription_gt',
        paddle_label='train_icdar2015_label.txt',
        mmocr_json='textdet_train.json'),
    'test':
    dict(
        img_dir='ch4_test_images',
        icdar_img_dir='ch4_test_images',
        icdar_gt_dir='Challenge4_Test_Task1_GT',
        paddle_label='test_icdar2015_label.txt',
        mmocr_json='textdet_test.json'),
}


def integer_points(region: TextRegion) -> np.ndarray:
    """Polygon rounded to integer pixels (ICDAR and PaddleOCR files hold integers).

    Returns:
        ndarray[N, 2], int64.
    """
    return np.round(region.points).astype(np.int64)


def icdar_quad(region: TextRegion) -> np.ndarray:
    """The 4 corners written to the raw ICDAR2015 format, which only holds quadrilaterals:
    the polygon itself for quads, the minimum-area rectangle for curved words.

    Returns:
        ndarray[4, 2], int64, clockwise from the corner nearest the top-left.
    """
    points = integer_points(region)
    if len(points) == 4:
        return points
    corners = cv2.boxPoints(cv2.minAreaRect(points.astype(np.float32)))
    start = int(np.argmin(corners.sum(axis=1)))  # top-left-most corner first
    ordered = np.roll(corners, -start, axis=0)
    # boxPoints may go either way round; make it clockwise on screen (positive shoelace in y-down)
    x, y = ordered[:, 0], ordered[:, 1]
    if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0:
        ordered = np.vstack([ordered[:1], ordered[:0:-1]])
    return np.round(ordered).astype(np.int64)


def write_icdar_gt(path: str, regions: Sequence[TextRegion]) -> None:
    """``x1,y1,...,x4,y4,transcription`` per line, UTF-8 with BOM, CRLF (like the release)."""
    lines = [
        ','.join(str(int(v)) for v in icdar_quad(r).reshape(-1)) + ',' + r.text for r in regions
    ]
    with open(path, 'w', encoding='utf-8-sig', newline='') as f:
        f.write(''.join(line + '\r\n' for line in lines))


def paddle_label_line(img_rel_path: str, regions: Sequence[TextRegion]) -> str:
    """``path<TAB>[{"transcription": ..., "points": [[x, y], ...]}, ...]`` (no newline)."""
    label = [dict(transcription=r.text, points=integer_points(r).tolist()) for r in regions]
    return img_rel_path + '\t' + json.dumps(label, ensure_ascii=False)


def mmocr_entry(img_rel_path: str, height: int, width: int, regions: Sequence[TextRegion]) -> Dict:
    """One ``data_list`` item of MMOCR's ``textdet_*.json``."""
    instances = []
    for r in regions:
        points = integer_points(r)
        instances.append(
            dict(
                polygon=points.reshape(-1).tolist(),
                bbox=[
                    int(points[:, 0].min()),
                    int(points[:, 1].min()),
                    int(points[:, 0].max()),
                    int(points[:, 1].max())
                ],
                bbox_label=0,
                ignore=r.text == '###',
                text=r.text))
    return dict(img_path=img_rel_path, height=height, width=width, instances=instances)


class SplitWriter:
    """Accumulates one split and writes its images and all three annotation formats.

    Args:
        out_dir (str): Dataset root.
        split (str): ``'train'`` or ``'test'``.
    """

    def __init__(self, out_dir: str, split: str) -> None:
        self.out_dir = out_dir
        self.names = LAYOUT[split]
        self.paddle_lines: List[str] = []
        self.mmocr_items: List[Dict] = []
        os.makedirs(osp.join(out_dir, self.names['img_dir']), exist_ok=True)
        os.makedirs(osp.join(out_dir, self.names['icdar_gt_dir']), exist_ok=True)

    def add(self, index: int, img: np.ndarray, regions: Sequence[TextRegion],
            jpeg_quality: int) -> None:
        """Write ``img_<index>.jpg`` and its raw ICDAR file; remember the other formats."""
        name = f'img_{index}'
        rel = f'{self.names["img_dir"]}/{name}.jpg'
        quality = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
        if not cv2.imwrite(osp.join(self.out_dir, rel), img, quality):
            raise OSError(f'could not write {osp.join(self.out_dir, rel)}')
        write_icdar_gt(
            osp.join(self.out_dir, self.names['icdar_gt_dir'], f'gt_{name}.txt'), regions)
        self.paddle_lines.append(paddle_label_line(rel, regions))
        self.mmocr_items.append(mmocr_entry(rel, img.shape[0], img.shape[1], regions))

    def finish(self) -> None:
        """Write the PaddleOCR label file, the MMOCR JSON and the raw-release image folder."""
        with open(osp.join(self.out_dir, self.names['paddle_label']), 'w', encoding='utf-8') as f:
            f.write(''.join(line + '\n' for line in self.paddle_lines))
        content = dict(
            metainfo=dict(
                dataset_type='TextDetDataset',
                task_name='textdet',
                category=[dict(id=0, name='text')]),
            data_list=self.mmocr_items)
        with open(osp.join(self.out_dir, self.names['mmocr_json']), 'w', encoding='utf-8') as f:
            json.dump(content, f, ensure_ascii=False)
        icdar_img_dir = osp.join(self.out_dir, self.names['icdar_img_dir'])
        if self.names['icdar_img_dir'] != self.names['img_dir'] and not osp.lexists(icdar_img_dir):
            # the raw release keeps training images elsewhere; share the files, don't copy
            os.symlink(self.names['img_dir'], icdar_img_dir)
