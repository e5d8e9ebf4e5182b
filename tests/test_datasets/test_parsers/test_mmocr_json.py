import json

import pytest

from mmpse_ext.datasets.parsers import (EVALUATION_RULES, BadAnnotationWarning, BadDataLog,
                                        read_mmocr_json)


def _write(path, content):
    path.write_text(json.dumps(content), encoding='utf-8')
    return str(path)


def test_reads_ocrdataset_format(tmp_path):
    meta = dict(dataset_name='toy', task_name='textdet', category=[dict(id=0, name='text')])
    ann = _write(
        tmp_path / 'textdet_train.json',
        dict(
            metainfo=meta,
            data_list=[
                dict(
                    img_path='textdet_imgs/train/img_1.jpg',
                    height=720,
                    width=1280,
                    instances=[
                        dict(
                            polygon=[0, 0, 10, 0, 10, 10, 0, 10],
                            bbox=[0, 0, 10, 10],
                            bbox_label=0,
                            ignore=False,
                            text='a,b'),
                        dict(
                            polygon=[20, 0, 30, 0, 30, 10, 20, 10],
                            bbox=[20, 0, 30, 10],
                            bbox_label=0,
                            ignore=True),
                        dict(polygon=[40, 0, 50, 0, 50, 10, 40, 10], ignore=False, text='###'),
                    ])
            ]))
    log = BadDataLog()
    metainfo, entries = read_mmocr_json(ann, '/root', log)
    assert metainfo == meta
    assert log.as_dict() == {}
    assert entries[0]['img_path'] == '/root/textdet_imgs/train/img_1.jpg'
    assert (entries[0]['height'], entries[0]['width']) == (720, 1280)
    assert [(i['text'], i['ignore'])
            for i in entries[0]['instances']] == [('a,b', False), ('', True), ('###', True)]


def test_every_bad_case_is_warned_and_counted(tmp_path):
    ann = _write(
        tmp_path / 'bad.json',
        dict(data_list=[
            'not a dict',
            dict(instances=[]),  # no img_path
            dict(
                img_path='a.jpg',
                instances=[
                    dict(polygon=[0, 0, 10, 0, 10]),  # odd count
                    dict(polygon=[0, 0, 10, 0, 10, 10, 'x', 10]),  # not numbers
                    dict(polygon='0,0,10,0'),  # not a list
                    dict(polygon=[0, 0, 10, 0, float('inf'), 10]),  # infinity
                    dict(polygon=[0, 0, 0, 0, 0, 0, 0, 0]),  # degenerate
                    dict(polygon=[0, 0, 10, 10, 10, 0, 0, 10]),  # self-intersecting
                    dict(polygon=[0, 0, 10, 0, 10, 10, 0, 10], text='fine'),
                ]),
        ]))
    log = BadDataLog()
    with pytest.warns(BadAnnotationWarning) as record:
        metainfo, entries = read_mmocr_json(ann, '', log)
    assert metainfo == {}  # the file has none
    assert len(record) == 8
    assert str(record[2].message).startswith(f'{ann}: data_list[2].instances[0]: malformed')
    assert log.as_dict() == {
        BadDataLog.MALFORMED_LINE: 2,
        BadDataLog.MALFORMED_INSTANCE: 3,
        BadDataLog.NON_FINITE: 1,
        BadDataLog.DEGENERATE: 1,
        BadDataLog.SELF_INTERSECTING: 1,
    }
    assert [(i['text'], i['ignore']) for i in entries[0]['instances']] == [('', True),
                                                                           ('fine', False)]
    # Evaluation keeps the degenerate and the self-intersecting polygon, cared.
    with pytest.warns(BadAnnotationWarning):
        _, entries = read_mmocr_json(ann, '', BadDataLog(), EVALUATION_RULES)
    assert [(i['polygon'], i['ignore'])
            for i in entries[0]['instances']] == [([0, 0, 0, 0, 0, 0, 0, 0], False),
                                                  ([0, 0, 10, 10, 10, 0, 0, 10], False),
                                                  ([0, 0, 10, 0, 10, 10, 0, 10], False)]


@pytest.mark.parametrize(
    'content', ['{"data_list": [', '[]', '{"metainfo": {}}', '{"metainfo": [], "data_list": []}'])
def test_unreadable_file_raises_naming_it(tmp_path, content):
    path = tmp_path / 'broken.json'
    path.write_text(content)
    with pytest.raises(ValueError, match='broken.json'):
        read_mmocr_json(str(path), '', BadDataLog())
