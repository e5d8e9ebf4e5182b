"""Write synthetic ground truth in the CTW1500 and Total-Text release layouts.

Byte layouts follow the releases as MMOCR's dataset preparer and our readers parse them: the
CTW1500 training XML (``<box>`` with ``<label>``, ``<segs>`` = 14 absolute points and ``<pts>``),
the CTW1500 test txt (28 integers, ``####`` + transcription) and Total-Text's
``poly_gt_imgN.txt`` (numpy-style coordinate lists, long ones wrapped onto continuation lines).
"""
from typing import List, Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .scene import TextRegion

CTW_POINTS_PER_SIDE = 7  # CTW1500 annotates every text with 14 points, 7 per long side
#: Total-Text wraps a coordinate list after about this many characters (numpy's line width)
TOTALTEXT_LINE_WIDTH = 75


def _resample(polyline: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along an open polyline (ends kept)."""
    seg = np.linalg.norm(np.diff(polyline, axis=0), axis=1)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    if dist[-1] == 0:
        return np.repeat(polyline[:1], n, axis=0)
    targets = np.linspace(0.0, dist[-1], n)
    return np.stack([np.interp(targets, dist, polyline[:, k]) for k in range(2)], axis=1)


def ctw1500_points(region: TextRegion) -> np.ndarray:
    """The region as CTW1500's 14 points: 7 along the top (left to right), then 7 along the
    bottom (right to left), integers.

    A word's polygon is its top side followed by its bottom side (4 corners for quads, 2 x 7
    samples for curved words): curved words keep their points, other halves are resampled to
    7 points evenly spaced along them.

    Returns:
        ndarray[14, 2], int64.
    """
    points = np.asarray(region.points, np.float64)
    half = len(points) // 2
    if half != CTW_POINTS_PER_SIDE:
        points = np.vstack([
            _resample(points[:half], CTW_POINTS_PER_SIDE),
            _resample(points[half:], CTW_POINTS_PER_SIDE)
        ])
    return np.round(points).astype(np.int64)


def totaltext_points(region: TextRegion) -> np.ndarray:
    """The polygon as written to Total-Text (integers, as many points as the word has).

    Returns:
        ndarray[N, 2], int64.
    """
    return np.round(np.asarray(region.points, np.float64)).astype(np.int64)


def write_ctw1500_xml(path: str, image_name: str, regions: Sequence[TextRegion]) -> None:
    """One image's training labels: ``<Annotations><image file=..><box ..>`` per word.

    ``<box>`` carries the bounding box (``height``, ``left``, ``top``, ``width``) as attributes,
    ``<label>`` the transcription (``###`` for don't-care words, which the XML does not mark
    otherwise), ``<segs>`` the 28 coordinates and ``<pts>`` the same 14 points.
    """
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>', '<Annotations>',
        f'  <image file={quoteattr(image_name)}>'
    ]
    for region in regions:
        points = ctw1500_points(region)
        left, top = points.min(axis=0)
        width, height = points.max(axis=0) - points.min(axis=0)
        lines.append(f'    <box height="{height}" left="{left}" top="{top}" width="{width}">')
        lines.append(f'      <label>{escape(region.text)}</label>')
        lines.append(f'      <segs>{",".join(str(int(v)) for v in points.reshape(-1))}</segs>')
        lines.extend(f'      <pts x="{x}" y="{y}" />' for x, y in points)
        lines.append('    </box>')
    lines += ['  </image>', '</Annotations>']
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write('\n'.join(lines) + '\n')


def write_ctw1500_test_txt(path: str, regions: Sequence[TextRegion]) -> None:
    """One image's test labels: ``x1,y1,...,x14,y14,####transcription`` per line."""
    lines = [
        ','.join(str(int(v)) for v in ctw1500_points(r).reshape(-1)) + ',####' + r.text
        for r in regions
    ]
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(''.join(line + '\n' for line in lines))


def _numpy_style_list(values: Sequence[int], prefix: str) -> List[str]:
    """``prefix[[v1 v2 ...]]`` wrapped like numpy prints long rows (continuation lines start
    with spaces, never with ``x:``)."""
    width = max(len(str(v)) for v in values)
    tokens = [str(v).rjust(width) for v in values]
    lines, current = [], prefix + '[['
    for k, token in enumerate(tokens):
        piece = token if k == 0 else ' ' + token
        if len(current) + len(piece) > TOTALTEXT_LINE_WIDTH and k > 0:
            lines.append(current)
            current = '  ' + token
        else:
            current += piece
    lines.append(current + ']]')
    return lines


def _orientation(region: TextRegion, points: np.ndarray) -> str:
    """Total-Text's ``ornt``: ``c`` curved, ``h`` horizontal, ``m`` multi-oriented, ``#``."""
    if region.text == '###':
        return '#'
    if len(points) > 4:
        return 'c'
    dx, dy = points[1] - points[0]
    return 'h' if abs(dy) <= 0.1 * max(abs(dx), 1) else 'm'


def write_totaltext_txt(path: str, regions: Sequence[TextRegion]) -> None:
    """One image's ``poly_gt_imgN.txt``: ``x: [[..]], y: [[..]], ornt: [u'c'],
    transcriptions: [u'..']`` per word; don't-care words get ``#``."""
    lines = []
    for region in regions:
        points = totaltext_points(region)
        text = '#' if region.text == '###' else region.text
        record = _numpy_style_list(points[:, 0].tolist(), 'x: ')
        y_lines = _numpy_style_list(points[:, 1].tolist(), 'y: ')
        record[-1] += ', ' + y_lines[0]
        record += y_lines[1:]
        record[-1] += f", ornt: [u'{_orientation(region, points)}'], transcriptions: " \
                      f'[u{text!r}]'
        lines += record
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(''.join(line + '\n' for line in lines))
