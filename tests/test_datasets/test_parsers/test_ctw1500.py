"""CTW1500 reader: equal to MMOCR's dataset preparer (``CTW1500AnnParser``) on files in the
released layouts, the official PSENet's ``text_label_curve`` rule, and bad-data reporting."""
import numpy as np
import pytest
from mmocr.datasets.preparers.parsers import CTW1500AnnParser

from mmpse_ext.datasets.parsers import (EVALUATION_RULES, BadAnnotationWarning, BadDataLog,
                                        InstanceRules, read_ctw1500_dir, read_ctw1500_file)

#: the reader's rules for CTW1500: '###' is the only don't-care text, nothing else changed
CTW_RULES = EVALUATION_RULES._replace(dont_care_texts=('###', ))


def _curve(x0, y0, length, height, bend, n=7):
    """14 integer points of a bent word: 7 along the top, 7 back along the bottom."""
    u = np.linspace(0, 1, n)
    top = np.stack([x0 + length * u, y0 - bend * np.sin(np.pi * u)], 1)
    bottom = top[::-1] + (0, height)
    return np.round(np.vstack([top, bottom])).astype(int)


WORDS = [  # (points, transcription) as the releases hold them
    (_curve(40, 80, 300, 40, 30), 'Latin 9'),
    (_curve(60, 200, 200, 25, -20), '###'),
    (_curve(30, 300, 120, 30, 0), 'Caf\u00e9 & <Bar>'),
    (_curve(200, 320, 90, 20, 8), '1,000'),
    (_curve(400, 60, 150, 35, 15), '#12'),
]


def _write_xml(path, words, image='0001.jpg'):
    """The released training XML: <box> with label, segs and pts, bounding box attributes."""
    from xml.sax.saxutils import escape
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<Annotations>', f'<image file="{image}">']
    for points, text in words:
        (left, top), (right, bottom) = points.min(0), points.max(0)
        lines += [
            f'<box height="{bottom - top}" left="{left}" top="{top}" '
            f'width="{right - left}">', f'<label>{escape(text)}</label>',
            f'<segs>{",".join(map(str, points.ravel()))}</segs>'
        ]
        lines += [f'<pts x="{x}" y="{y}" />' for x, y in points]
        lines.append('</box>')
    lines += ['</image>', '</Annotations>']
    path.write_text('\r\n'.join(lines) + '\r\n', encoding='utf-8')
    return str(path)


def _write_test_txt(path, words):
    """The released test labels: 28 integers, then '####' and the transcription."""
    lines = [','.join(map(str, p.ravel())) + ',####' + text for p, text in words]
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return str(path)


def _mmocr(split, ann_path):
    _, instances = CTW1500AnnParser(split=split).parse_file('img.jpg', ann_path)
    return instances


def _assert_same_as_mmocr(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a['polygon'] == [float(v) for v in b['poly']]
        assert a['ignore'] == bool(b['ignore'])


def test_training_xml_equals_mmocr(tmp_path):
    path = _write_xml(tmp_path / '0001.xml', WORDS)
    log = BadDataLog()
    ours = read_ctw1500_file(path, log, CTW_RULES)
    theirs = _mmocr('train', path)
    _assert_same_as_mmocr(ours, theirs)
    assert log.as_dict() == {}
    assert [i['text'] for i in ours] == [b['text'] for b in theirs] == [t for _, t in WORDS]
    # the training XML marks nothing don't-care, '###' included (MMOCR: ignore=0 for every box)
    assert not any(i['ignore'] for i in ours)
    assert len(ours[0]['polygon']) == 28


def test_test_labels_equal_mmocr(tmp_path):
    path = _write_test_txt(tmp_path / '0001001.txt', WORDS)
    ours = read_ctw1500_file(path, BadDataLog(), CTW_RULES)
    theirs = _mmocr('test', path)
    _assert_same_as_mmocr(ours, theirs)
    assert [i['ignore'] for i in ours] == [False, True, False, False, False]
    # MMOCR cuts a transcription at its first comma; we keep the whole of it
    assert [b['text'] for b in theirs] == ['Latin 9', '###', 'Caf\u00e9 & <Bar>', '1', '#12']
    assert [i['text'] for i in ours] == [t for _, t in WORDS]


def test_synthetic_curved_files_equal_mmocr(curved_root):
    train = sorted((curved_root / 'ctw1500_train_labels').glob('*.xml'))
    test = sorted((curved_root / 'gt_ctw1500').glob('*.txt'))
    assert train and test
    num_words = 0
    for split, files in (('train', train), ('test', test)):
        for path in files:
            ours = read_ctw1500_file(str(path), BadDataLog(), CTW_RULES)
            _assert_same_as_mmocr(ours, _mmocr(split, str(path)))
            assert all(len(i['polygon']) == 28 for i in ours)
            num_words += len(ours)
    assert num_words > 10


def test_text_label_curve_is_box_corner_plus_offsets(tmp_path):
    # the official PSENet's CTW1500 files: x1, y1, x2, y2 of a box, then 28 offsets from its
    # top-left corner; no transcription, every text cared
    lines, expected = [], []
    for points, _ in WORDS[:3]:
        (left, top), (right, bottom) = points.min(0), points.max(0)
        offsets = (points - (left, top)).ravel()
        lines.append(','.join(map(str, [left, top, right, bottom, *offsets])))
        expected.append([float(v) for v in points.ravel()])
    path = tmp_path / '0007.txt'
    path.write_bytes(b'\xef\xbb\xbf' + '\r\n'.join(lines).encode() + b'\r\n')
    ours = read_ctw1500_file(str(path), BadDataLog(), CTW_RULES)
    assert [i['polygon'] for i in ours] == expected
    assert [(i['text'], i['ignore']) for i in ours] == [('', False)] * 3


def test_bad_lines_and_boxes_are_warned_with_file_and_line_and_counted(tmp_path):
    good = ','.join(map(str, WORDS[0][0].ravel()))
    path = tmp_path / '0002.txt'
    path.write_text(
        '\n'.join([
            good + ',####ok',  # 1
            good.rsplit(',', 2)[0] + ',####short',  # 2 26 numbers
            good + ',Latin',  # 3 no '####' mark
            good.replace('40', 'forty', 1) + ',####x',  # 4 not a number
            '',  # 5 blank: skipped silently
            ','.join(['10'] * 28) + ',####flat',  # 6 every point equal: degenerate
            good + ',####last',  # 7
        ]) + '\n',
        encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        ours = read_ctw1500_file(str(path), log, InstanceRules())
    assert log.as_dict() == {BadDataLog.MALFORMED_LINE: 3, BadDataLog.DEGENERATE: 1}
    messages = [str(w.message) for w in record]
    for line_no in (2, 3, 4, 6):
        assert any(m.startswith(f'{path}:{line_no}: ') for m in messages), line_no
    assert [i['text'] for i in ours] == ['ok', 'last']

    xml = _write_xml(tmp_path / '0003.xml', WORDS[:2])
    text = (tmp_path / '0003.xml').read_text(encoding='utf-8')
    (tmp_path / '0003.xml').write_text(text.replace(',', ';', 3), encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning, match=r'0003\.xml: box 0: malformed instance'):
        ours = read_ctw1500_file(xml, log)
    assert log.as_dict() == {BadDataLog.MALFORMED_INSTANCE: 1} and len(ours) == 1

    broken = tmp_path / '0004.xml'
    broken.write_text('<Annotations><image><box>', encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning, match=r'0004\.xml:1: malformed line: not valid XML'):
        assert read_ctw1500_file(str(broken), log) is None
    assert log.as_dict() == {BadDataLog.MALFORMED_LINE: 1}


def test_directory_pairs_files_with_images_and_reports_strays(tmp_path):
    ann, img = tmp_path / 'gt_ctw1500', tmp_path / 'test_images'
    ann.mkdir()
    img.mkdir()
    for name in ('1001.jpg', '1002.jpg', '1004.JPG'):
        (img / name).write_bytes(b'')
    _write_test_txt(ann / '0001001.txt', WORDS[:1])  # the download's name for 1001.jpg
    _write_test_txt(ann / '1002.txt', WORDS[:2])  # the official PSENet's name
    _write_test_txt(ann / '0001003.txt', WORDS[:1])  # no image
    (ann / 'readme.md').write_text('not an annotation')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning):
        entries = read_ctw1500_dir(str(ann), str(img), log, CTW_RULES)
    assert [e['img_path'] for e in entries] == [str(img / '1001.jpg'), str(img / '1002.jpg')]
    assert [len(e['instances']) for e in entries] == [1, 2]
    assert log.as_dict() == {BadDataLog.MISSING_IMAGE: 1, BadDataLog.MISSING_ANNOTATION: 1}
