"""Pair per-image annotation files with their images (CTW1500, Total-Text layouts).

Both releases keep one annotation file per image in a folder of its own, named after the image
with a prefix (``poly_gt_img12.txt`` for ``img12.jpg``) or a different zero padding
(``0001001.txt`` for ``1001.jpg``). A file without an image, or an image without a file, is
warned about, counted and skipped, as for the raw ICDAR2015 layout.
"""
import os
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple

from .bad_data_log import BadDataLog
from .icdar_txt import IMAGE_EXTENSIONS, natural_key

#: ``annotation file name -> candidate image stems`` (None: not an annotation file).
StemRule = Callable[[str], Optional[Sequence[str]]]


def list_images(img_dir: str) -> dict:
    """``{stem: path}`` of the images in ``img_dir`` (first extension in name order wins).

    Raises:
        FileNotFoundError: ``img_dir`` is not a directory.
    """
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image directory {img_dir!r} not found; set img_dir or '
                                'data_root')
    images = {}
    for name in sorted(os.listdir(img_dir)):
        stem, ext = osp.splitext(name)
        if ext in IMAGE_EXTENSIONS:
            images.setdefault(stem, osp.join(img_dir, name))
    return images


def pair_annotation_files(ann_dir: str, img_dir: str, image_stems: StemRule,
                          log: BadDataLog) -> List[Tuple[str, str]]:
    """Match every annotation file of ``ann_dir`` with its image in ``img_dir``.

    Args:
        ann_dir (str): Folder of annotation files.
        img_dir (str): Folder of images.
        image_stems (callable): Candidate image stems of an annotation file name, in order of
            preference; None for files that are not annotations (skipped silently).
        log (BadDataLog): Receives ``missing image`` / ``missing annotation file`` reports.

    Returns:
        list[tuple[str, str]]: ``(annotation path, image path)`` in natural name order.
    """
    images = list_images(img_dir)
    used = set()
    pairs = []
    for name in sorted(os.listdir(ann_dir), key=natural_key):
        stems = image_stems(name)
        if stems is None:
            continue
        ann_path = osp.join(ann_dir, name)
        stem = next((s for s in stems if s in images), None)
        if stem is None:
            log.report(BadDataLog.MISSING_IMAGE, f'{ann_path}:1',
                       f'no image {" or ".join(f"{s}.*" for s in stems)} in {img_dir}',
                       'file skipped')
            continue
        used.add(stem)
        pairs.append((ann_path, images[stem]))
    for stem in sorted(set(images) - used, key=natural_key):
        log.report(BadDataLog.MISSING_ANNOTATION, images[stem],
                   f'no annotation file for it in {ann_dir}', 'image skipped')
    return pairs
