"""Image files of the kinds users point a detector at, written by the tests themselves: the
readable ones (grey, RGBA, 16-bit, TIFF, WebP, upper-case extension, unicode path with spaces,
the same name in two folders) and unreadable ones (truncated JPEG, empty file, text named
.png, an iPhone HEIC photo renamed .jpg), each with the reason ``unreadable_reason`` should give."""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

#: name -> reason, for the unreadable files :func:`write_image_kinds` writes.
UNREADABLE = {
    'broken_truncated.jpg': 'truncated JPEG',
    'empty.jpg': 'empty file',
    'notes_named.png': 'not an image: a text file',
    'iphone_photo.jpg': 'unsupported format: HEIC',
}


def write_image_kinds(folder: str, scene_bgr: np.ndarray) -> Tuple[List[str], Dict[str, str]]:
    """Write ``scene_bgr`` (uint8 BGR) in many forms under ``folder``, plus unreadable files.

    Returns:
        tuple[list[str], dict[str, str]]: the readable files (paths), and the unreadable files
        (path -> expected reason).
    """
    os.makedirs(osp.join(folder, 'sub a'), exist_ok=True)
    os.makedirs(osp.join(folder, 'sub_b'), exist_ok=True)
    os.makedirs(osp.join(folder, 'ünïcødé dir'), exist_ok=True)
    grey = cv2.cvtColor(scene_bgr, cv2.COLOR_BGR2GRAY)
    rgba = cv2.cvtColor(scene_bgr, cv2.COLOR_BGR2BGRA)
    rgba[..., 3] = 200
    readable = {
        'colour.jpg': ('.jpg', scene_bgr),
        'UPPER.JPG': ('.jpg', scene_bgr),
        'grey.png': ('.png', grey),
        'rgba.png': ('.png', rgba),
        'sixteen_bit.png': ('.png', scene_bgr.astype(np.uint16) * 257),
        'scan.tif': ('.tif', scene_bgr),
        'web.webp': ('.webp', scene_bgr),
        osp.join('sub a', 'same.jpg'): ('.jpg', scene_bgr),
        osp.join('sub_b', 'same.jpg'): ('.jpg', np.ascontiguousarray(scene_bgr[:, ::-1])),
        osp.join('ünïcødé dir', 'phötö 1.png'): ('.png', scene_bgr),
    }
    paths = []
    for name, (ext, image) in readable.items():
        ok, data = cv2.imencode(ext, image)
        assert ok, name
        path = osp.join(folder, name)
        with open(path, 'wb') as f:  # cv2.imwrite does not take non-ASCII paths everywhere
            f.write(data.tobytes())
        paths.append(path)
    ok, jpeg = cv2.imencode('.jpg', scene_bgr)
    contents = {
        'broken_truncated.jpg': jpeg.tobytes()[:len(jpeg) // 2],
        'empty.jpg': b'',
        'notes_named.png': b'these are my notes, not a picture\n',
        'iphone_photo.jpg': b'\x00\x00\x00\x18ftypheic' + bytes(64),  # HEIC renamed .jpg
    }
    unreadable = {}
    for name, data in contents.items():
        path = osp.join(folder, name)
        with open(path, 'wb') as f:
            f.write(data)
        unreadable[path] = UNREADABLE[name]
    return sorted(paths), unreadable
