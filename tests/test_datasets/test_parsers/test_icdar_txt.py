import math

import pytest

from mmpse_ext.datasets.parsers import (EVALUATION_RULES, BadAnnotationWarning, BadDataLog,
                                        InstanceRules, read_icdar_gt_dir, read_icdar_gt_file)


def _write(path, lines, bom=True, newline='\r\n'):
    data = ''.join(line + newline for line in lines).encode('utf-8')
    path.write_bytes((b'\xef\xbb\xbf' if bom else b'') + data)
    return str(path)


def test_bom_crlf_and_commas_in_transcriptions(tmp_path):
    gt = _write(tmp_path / 'gt_img_1.txt', [
        '377,117,463,117,465,130,378,130,Genaxis Theatre',
        '493,115,519,115,519,131,493,131,[06]',
        '374,155,409,155,409,170,374,170,###',
        '10,10,60,10,60,30,10,30,1,000',
        '10,40,60,40,60,60,10,60,a,b,,c',
        '10,70,60,70,60,90,10,90,*',
        '10,100,60,100,60,120,10,120,Straße',
    ])
    log = BadDataLog()
    instances = read_icdar_gt_file(gt, log)
    assert log.as_dict() == {}
    assert [i['text'] for i in instances
            ] == ['Genaxis Theatre', '[06]', '###', '1,000', 'a,b,,c', '*', 'Straße']
    assert [i['ignore'] for i in instances] == [False, False, True, False, False, True, False]
    assert instances[0]['polygon'] == [377, 117, 463, 117, 465, 130, 378, 130]  # BOM stripped
    assert instances[0]['bbox'] == [377, 117, 465, 130] and instances[0]['bbox_label'] == 0


def test_lf_without_bom_reads_the_same(tmp_path):
    line = '377,117,463,117,465,130,378,130,Genaxis Theatre'
    a = read_icdar_gt_file(_write(tmp_path / 'a.txt', [line]), BadDataLog())
    lf_file = _write(tmp_path / 'b.txt', [line], bom=False, newline='\n')
    b = read_icdar_gt_file(lf_file, BadDataLog())
    assert a == b


def test_every_bad_line_is_warned_with_file_and_line_and_counted(tmp_path):
    gt = _write(
        tmp_path / 'gt_img_7.txt',
        [
            '10,10,60,10,60,30,10,30,good',  # 1
            '10,10,60,10,60,30,short',  # 2 seven coordinates
            '10,10,60,10,60,30,10,30',  # 3 no transcription field
            '10,10,sixty,10,60,30,10,30,word',  # 4 not a number
            '10,10,60,10,nan,30,10,30,word',  # 5 NaN
            '10,10,60,10,60,inf,10,30,word',  # 6 infinity
            '10,10,10,10,10,10,10,10,word',  # 7 all points equal
            '10,10,20,20,30,30,40,40,word',  # 8 collinear, zero area
            '10,10,60,30,60,10,10,30,bowtie',  # 9 self-intersecting: kept, ignored
            '',  # 10 blank: skipped silently
            '10,50,60,50,60,70,10,70,good too',  # 11
        ])
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        instances = read_icdar_gt_file(gt, log)
    assert log.as_dict() == {
        BadDataLog.MALFORMED_LINE: 3,
        BadDataLog.NON_FINITE: 2,
        BadDataLog.DEGENERATE: 2,
        BadDataLog.SELF_INTERSECTING: 1,
    }
    messages = [str(w.message) for w in record]
    for line_no in (2, 3, 4, 5, 6, 7, 8, 9):
        assert any(m.startswith(f'{gt}:{line_no}: ') for m in messages), line_no
    assert [(i['text'], i['ignore']) for i in instances] == [('good', False), ('bowtie', True),
                                                             ('good too', False)]
    assert all(math.isfinite(c) for i in instances for c in i['polygon'])


def test_evaluation_rules_keep_the_ground_truth_as_annotated(tmp_path):
    gt = _write(
        tmp_path / 'gt_img_7.txt',
        [
            '10,10,60,10,60,30,10,30,good',  # 1
            '10,10,60,10,60,30,short',  # 2 cannot be a polygon: skipped
            '10,10,10,10,10,10,10,10,word',  # 3 all points equal: kept
            '10,10,20,20,30,30,40,40,word',  # 4 collinear: kept
            '10,10,60,30,60,10,10,30,bowtie',  # 5 self-intersecting: kept and cared
            '10,10,60,10,60,30,10,30,*',  # 6 '*' is a word for the official protocol
            '10,10,60,10,60,30,10,30,###',  # 7 don't-care
            '10,10,10.5,10,10.5,10.5,10,10.5,tiny',  # 8 area 0.25 < min_area: kept
        ])
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        instances = read_icdar_gt_file(gt, log, EVALUATION_RULES)
    assert [(i['text'], i['ignore']) for i in instances] == [('good', False), ('word', False),
                                                             ('word', False), ('bowtie', False),
                                                             ('*', False), ('###', True),
                                                             ('tiny', False)]
    assert instances[3]['polygon'] == [10, 10, 60, 30, 60, 10, 10, 30]
    assert log.as_dict() == {
        BadDataLog.MALFORMED_LINE: 1,
        BadDataLog.DEGENERATE: 3,
        BadDataLog.SELF_INTERSECTING: 1
    }
    messages = [str(w.message) for w in record]
    for line_no in (3, 4, 5, 8):
        assert any(
            m.startswith(f'{gt}:{line_no}: ') and 'kept as annotated' in m
            for m in messages), line_no
    # A dataset option may name other don't-care texts.
    rules = EVALUATION_RULES._replace(dont_care_texts=('###', '*'))
    with pytest.warns(BadAnnotationWarning):
        ignored = [i['ignore'] for i in read_icdar_gt_file(gt, BadDataLog(), rules)]
    assert ignored == [False, False, False, False, True, True, False]
    assert InstanceRules().keep_invalid is False  # the training default


def test_empty_file_gives_no_instances(tmp_path):
    (tmp_path / 'gt_img_1.txt').write_bytes(b'\xef\xbb\xbf')
    assert read_icdar_gt_file(str(tmp_path / 'gt_img_1.txt'), BadDataLog()) == []


def test_directory_pairs_images_and_reports_orphans(tmp_path):
    img_dir, gt_dir = tmp_path / 'imgs', tmp_path / 'gts'
    img_dir.mkdir(), gt_dir.mkdir()
    for n in (1, 2, 10):
        (img_dir / f'img_{n}.jpg').write_bytes(b'x')
        _write(gt_dir / f'gt_img_{n}.txt', [f'0,0,{n + 5},0,{n + 5},5,0,5,w{n}'])
    (img_dir / 'img_3.jpg').write_bytes(b'x')  # no gt file
    _write(gt_dir / 'gt_img_4.txt', ['0,0,5,0,5,5,0,5,w4'])  # no image
    (gt_dir / 'readme.md').write_text('not a gt file')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning):
        entries = read_icdar_gt_dir(str(gt_dir), str(img_dir), log)
    assert [e['img_path'].rsplit('/', 1)[1]
            for e in entries] == ['img_1.jpg', 'img_2.jpg', 'img_10.jpg']  # natural order
    assert [e['instances'][0]['text'] for e in entries] == ['w1', 'w2', 'w10']
    assert log.as_dict() == {BadDataLog.MISSING_ANNOTATION: 1, BadDataLog.MISSING_IMAGE: 1}
