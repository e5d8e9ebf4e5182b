import json

import pytest

from mmpse_ext.datasets.parsers import (EVALUATION_RULES, BadAnnotationWarning, BadDataLog,
                                        read_paddle_label_file)


def _label(regions):
    return json.dumps(regions, ensure_ascii=False)


GOOD = [{
    'transcription': 'Genaxis Theatre',
    'points': [[377, 117], [463, 117], [465, 130], [378, 130]]
}, {
    'transcription': '###',
    'points': [[374, 155], [409, 155], [409, 170], [374, 170]]
}, {
    'transcription': '*',
    'points': [[10, 10], [50, 10], [50, 30], [10, 30]]
}]


def test_reads_the_seed_format(tmp_path):
    path = tmp_path / 'train_icdar2015_label.txt'
    path.write_text(f'icdar_c4_train_imgs/img_1.jpg\t{_label(GOOD)}\n', encoding='utf-8')
    log = BadDataLog()
    entries = read_paddle_label_file(str(path), '/data/root', log)
    assert log.as_dict() == {}
    assert len(entries) == 1
    assert entries[0]['img_path'] == '/data/root/icdar_c4_train_imgs/img_1.jpg'
    instances = entries[0]['instances']
    assert instances[0]['polygon'] == [377, 117, 463, 117, 465, 130, 378, 130]
    assert [(i['text'], i['ignore']) for i in instances] == [('Genaxis Theatre', False),
                                                             ('###', True), ('*', True)]


def test_evaluation_rules_care_for_star_and_keep_invalid_polygons(tmp_path):
    regions = GOOD + [{
        'transcription': 'bowtie',
        'points': [[0, 0], [10, 10], [10, 0], [0, 10]]
    }, {
        'transcription': 'flat',
        'points': [[0, 0], [5, 5], [10, 10]]
    }]
    path = tmp_path / 'test_icdar2015_label.txt'
    path.write_text(f'img_1.jpg\t{_label(regions)}\n', encoding='utf-8')
    with pytest.warns(BadAnnotationWarning) as record:
        entries = read_paddle_label_file(str(path), '', BadDataLog(), EVALUATION_RULES)
    messages = [str(w.message) for w in record]
    for region in (3, 4):
        assert any(
            m.startswith(f'{path}:1 (region {region})') and 'kept as annotated' in m
            for m in messages), region
    assert [(i['text'], i['ignore'])
            for i in entries[0]['instances']] == [('Genaxis Theatre', False), ('###', True),
                                                  ('*', False), ('bowtie', False), ('flat', False)]


def test_bom_crlf_and_curved_polygons(tmp_path):
    curved = [{
        'transcription': 'arc,ed',
        'points': [[0, 0], [20, -3], [40, 0], [40, 10], [20, 7], [0, 10]]
    }]
    path = tmp_path / 'label.txt'
    path.write_bytes(b'\xef\xbb\xbf' + f'a.jpg\t{_label(curved)}\r\n'.encode())
    entries = read_paddle_label_file(str(path), '', BadDataLog())
    assert entries[0]['img_path'] == 'a.jpg'
    assert len(entries[0]['instances'][0]['polygon']) == 12
    assert entries[0]['instances'][0]['text'] == 'arc,ed'


def test_every_bad_case_is_warned_with_file_and_line_and_counted(tmp_path):
    bad_regions = [
        {
            'transcription': 'ok',
            'points': [[0, 0], [10, 0], [10, 10], [0, 10]]
        },
        {
            'transcription': 'two points',
            'points': [[0, 0], [10, 0]]
        },
        {
            'transcription': 'triple',
            'points': [[0, 0, 1], [10, 0, 1], [10, 10, 1]]
        },
        {
            'transcription': 'text',
            'points': [['a', 0], [10, 0], [10, 10]]
        },
        {
            'transcription': 'nan',
            'points': [[float('nan'), 0], [10, 0], [10, 10]]
        },
        {
            'transcription': 'flat',
            'points': [[0, 0], [5, 5], [10, 10]]
        },
        {
            'transcription': 'no points'
        },
        'not a dict',
        {
            'transcription': 'bowtie',
            'points': [[0, 0], [10, 10], [10, 0], [0, 10]]
        },
    ]
    lines = [
        f'good.jpg\t{_label(GOOD)}',  # 1
        'no_tab.jpg ' + _label(GOOD),  # 2 no tab
        'bad_json.jpg\t[{"points": [[1, 2]',  # 3 truncated JSON
        'dict.jpg\t{"points": []}',  # 4 not a list
        f'mixed.jpg\t{_label(bad_regions)}',  # 5 instance problems
        'empty.jpg\t[]',  # 6 empty list: the dataset decides
        '',  # 7 blank
    ]
    path = tmp_path / 'label.txt'
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        entries = read_paddle_label_file(str(path), '', log)
    assert log.as_dict() == {
        BadDataLog.MALFORMED_LINE: 3,  # lines 2, 3, 4
        BadDataLog.MALFORMED_INSTANCE: 5,  # two points, triple, text, no points, not a dict
        BadDataLog.NON_FINITE: 1,
        BadDataLog.DEGENERATE: 1,
        BadDataLog.SELF_INTERSECTING: 1,
    }
    messages = [str(w.message) for w in record]
    for line_no in (2, 3, 4, 5):
        assert any(m.startswith(f'{path}:{line_no}') for m in messages), line_no
    assert [e['img_path'] for e in entries] == ['good.jpg', 'mixed.jpg', 'empty.jpg']
    assert [(i['text'], i['ignore']) for i in entries[1]['instances']] == [('ok', False),
                                                                           ('bowtie', True)]
    assert entries[2]['instances'] == []
