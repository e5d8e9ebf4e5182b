"""Input expansion (files, recursive folders, globs) and duplicate-proof output names."""
import os.path as osp

import pytest

from mmpse_ext.apis import collect_images, relative_names


def test_collect_images_file_folder_glob_and_errors(tmp_path):
    for name in ('b.jpg', 'a.png', 'notes.txt'):
        (tmp_path / name).write_bytes(b'x')
    sub = tmp_path / 'sub'
    sub.mkdir()
    (sub / 'c.JPG').write_bytes(b'x')
    (sub / 'a.png').write_bytes(b'x')
    folder = collect_images([str(tmp_path)])  # recursive, sorted, no .txt
    assert folder == [
        str(tmp_path / 'a.png'),
        str(tmp_path / 'b.jpg'),
        str(sub / 'a.png'),
        str(sub / 'c.JPG')
    ]
    assert collect_images(str(sub / 'c.JPG')) == [str(sub / 'c.JPG')]
    globbed = collect_images([str(tmp_path / '*.jpg'), str(tmp_path / 'b.jpg')])
    assert globbed == [str(tmp_path / 'b.jpg')]  # de-duplicated
    assert collect_images([str(tmp_path / '**' / 'a.png')
                           ]) == [str(tmp_path / 'a.png'),
                                  str(sub / 'a.png')]
    with pytest.raises(FileNotFoundError, match='nothing_here'):
        collect_images([str(tmp_path / 'nothing_here*.jpg')])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty'):
        collect_images([str(tmp_path / 'empty')])


def test_relative_names_keep_nested_duplicates_apart(tmp_path):
    images = [
        str(tmp_path / 'a' / 'img_1.jpg'),
        str(tmp_path / 'b' / 'c' / 'img_1.jpg'),
        str(tmp_path / 'a' / 'img_2.jpg')
    ]
    assert relative_names(images) == [
        osp.join('a', 'img_1'),
        osp.join('b', 'c', 'img_1'),
        osp.join('a', 'img_2')
    ]
    # one flat folder (the demo's test images): bare stems
    assert relative_names([str(tmp_path / 'img_1.jpg'),
                           str(tmp_path / 'img_2.png')]) == ['img_1', 'img_2']
    assert relative_names([str(tmp_path / 'x' / 'only.jpg')]) == ['only']
    # same stem, same folder, other extension: the extension stays to keep them apart
    assert relative_names(
        [str(tmp_path / 'x.jpg'),
         str(tmp_path / 'x.png'),
         str(tmp_path / 'y.jpg')]) == ['x.jpg', 'x.png', 'y']
    assert relative_names([]) == []
