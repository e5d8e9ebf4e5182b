"""Total-Text reader: equal to MMOCR's dataset preparer (``TotaltextTextDetAnnParser``) on files
in the released txt layout (wrapped coordinate lists, ``#`` don't-care), and bad-data reporting."""
import pytest
from mmocr.datasets.preparers.parsers import TotaltextTextDetAnnParser

from mmpse_ext.datasets.parsers import (EVALUATION_RULES, BadAnnotationWarning, BadDataLog,
                                        InstanceRules, read_totaltext_dir, read_totaltext_file)

#: the reader's rules for Total-Text: '#' is the don't-care text, polygons kept as annotated
TT_RULES = EVALUATION_RULES._replace(dont_care_texts=('#', ))

# Records as the release writes them: numpy-printed rows (right-aligned, wrapped after ~75
# columns onto lines that start with spaces), Python 2 unicode literals for the words.
RELEASED = ("x: [[115 143 164 176 160 135 112]], y: [[322 316 330 358 367 340 329]], "
            "ornt: [u'c'], transcriptions: [u'ASTRO']\n") + '''\
x: [[ 45  77 115 153 193 233 273 306 343 375 411 450 487 501 467 433 396 360 323 286 251 214 176
  140 108  75  52]], y: [[244 226 212 203 199 199 203 211 222 237 255 275 298 325 308 290 273 258
  246 236 230 228 231 236 244 256 272]], ornt: [u'c'], transcriptions: [u'UNIVERSITY']
x: [[580 640 640 580]], y: [[ 90  90 118 118]], ornt: [u'h'], transcriptions: [u'#']
x: [[20 60 60 20]], y: [[400 400 420 420]], ornt: [u'#'], transcriptions: []
x: [[700 760 762 702]], y: [[400 396 430 434]], ornt: [u'm'], transcriptions: [u"Donald's"]
x: [[10 30 30 10]], y: [[10 10 30 30]], ornt: [u'h'], transcriptions: [u',']
x: [[100 190 190 100]], y: [[500 500 540 540]], ornt: [u'h'], transcriptions: [u'Caf\\xe9']
x: [[300 380 380 300]], y: [[500 500 540 540]], ornt: [u'h'], transcriptions: [u'1,000']
'''


def _mmocr(path):
    _, instances = TotaltextTextDetAnnParser(split='train').parse_file('img.jpg', str(path))
    return instances


def _assert_same_as_mmocr(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a['polygon'] == [float(v) for v in b['poly']]
        assert a['ignore'] == bool(b['ignore'])
        assert a['text'] == b['text']


def test_released_layout_equals_mmocr(tmp_path):
    path = tmp_path / 'poly_gt_img11.txt'
    path.write_text(RELEASED, encoding='utf-8')
    log = BadDataLog()
    ours = read_totaltext_file(str(path), log, TT_RULES)
    _assert_same_as_mmocr(ours, _mmocr(path))
    assert log.as_dict() == {}
    assert [len(i['polygon']) // 2 for i in ours] == [7, 27, 4, 4, 4, 4, 4, 4]
    assert [i['text'] for i in ours
            ] == ['ASTRO', 'UNIVERSITY', '#', '#', "Donald's", '#', 'Caf\u00e9', '1,000']
    # '#', an empty transcription list and (as MMOCR reads it) a lone ',' are don't-care
    assert [i['ignore'] for i in ours] == [False, False, True, True, False, True, False, False]


def test_synthetic_curved_files_equal_mmocr(curved_root):
    files = sorted(curved_root.glob('txt_format/*/poly_gt_img*.txt'))
    assert len(files) == 6
    lengths = set()
    for path in files:
        ours = read_totaltext_file(str(path), BadDataLog(), TT_RULES)
        _assert_same_as_mmocr(ours, _mmocr(path))
        lengths |= {len(i['polygon']) // 2 for i in ours}
    assert lengths == {4, 14}  # straight words and curved ones


def test_bad_records_are_warned_with_file_and_line_and_counted(tmp_path):
    path = tmp_path / 'poly_gt_img3.txt'
    path.write_text(
        '\n'.join([
            '  stray text before any record',  # 1
            "x: [[1 50 50 1]], y: [[1 1 20 20]], ornt: [u'h'], transcriptions: [u'ok']",  # 2
            "x: [[1 50 50]], y: [[1 1 20 20]], ornt: [u'h'], transcriptions: [u'count']",  # 3
            "x: [[1 5O 50 1]], y: [[1 1 20 20]], ornt: [u'h'], transcriptions: [u'O']",  # 4
            "x: [[1 50 50 1]], y: [[1 1 20 20]], ornt: [u'h'], transcriptions: [u'open",  # 5
            "x: [[1 50 50 1]], y: [[1 1 20 20]]",  # 6
            '',  # 7
            "x: [[5 5 5 5]], y: [[5 5 5 5]], ornt: [u'h'], transcriptions: [u'dot']",  # 8
            "x: [[1 50 50 1]], y: [[30 30 50 50]], ornt: [u'h'],",  # 9
            "  transcriptions: [u'wrapped']",  # 10
        ]) + '\n',
        encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        ours = read_totaltext_file(str(path), log, InstanceRules(dont_care_texts=('#', )))
    assert log.as_dict() == {BadDataLog.MALFORMED_LINE: 5, BadDataLog.DEGENERATE: 1}
    messages = [str(w.message) for w in record]
    for line_no in (1, 3, 4, 5, 6, 8):
        assert any(m.startswith(f'{path}:{line_no}: ') for m in messages), line_no
    assert [i['text'] for i in ours] == ['ok', 'wrapped']


def test_directory_pairs_poly_gt_files_with_images(tmp_path):
    gt, img = tmp_path / 'txt_format' / 'Test', tmp_path / 'Images' / 'Test'
    gt.mkdir(parents=True)
    img.mkdir(parents=True)
    for name in ('img1.jpg', 'img2.JPG', 'img10.jpg'):
        (img / name).write_bytes(b'')
    record = "x: [[1 50 50 1]], y: [[1 1 20 20]], ornt: [u'h'], transcriptions: [u'a']\n"
    for stem in ('img10', 'img2', 'img5'):
        (gt / f'poly_gt_{stem}.txt').write_text(record, encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning):
        entries = read_totaltext_dir(str(gt), str(img), log)
    assert [e['img_path'] for e in entries] == [str(img / 'img2.JPG'), str(img / 'img10.jpg')]
    assert log.as_dict() == {BadDataLog.MISSING_IMAGE: 1, BadDataLog.MISSING_ANNOTATION: 1}
