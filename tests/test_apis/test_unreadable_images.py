"""unreadable_reason: each kind of unreadable file, after MMOCR's own image loader failed on it,
gets the reason a user can act on."""
import struct

import cv2
import numpy as np
import pytest
from image_kinds import write_image_kinds
from mmocr.datasets.transforms import LoadImageFromFile

from mmpse_ext.apis import UnreadableImageError, unreadable_reason


@pytest.fixture(scope='module')
def kinds(tmp_path_factory):
    scene = (np.random.RandomState(0).rand(48, 64, 3) * 255).astype(np.uint8)
    return write_image_kinds(str(tmp_path_factory.mktemp('kinds')), scene)


def test_mmocr_loader_fails_on_each_unreadable_kind_and_we_name_why(kinds):
    """The reasons are asked of the files MMOCR's loader (our configs' test loader) rejects."""
    _, unreadable = kinds
    loader = LoadImageFromFile(color_type='color_ignore_orientation')
    for path, expected in unreadable.items():
        with pytest.raises(Exception) as caught:
            loader(dict(img_path=path))
        assert unreadable_reason(path, caught.value) == expected, path


def test_readable_kinds_are_read_by_mmocrs_loader(kinds):
    readable, _ = kinds
    loader = LoadImageFromFile(color_type='color_ignore_orientation')
    for path in readable:
        assert loader(dict(img_path=path))['img'].shape == (48, 64, 3), path


@pytest.mark.parametrize(
    'content,expected',
    [
        (b'\x89PNG\r\n\x1a\n' + bytes(40), 'truncated PNG'),  # no IEND chunk
        (b'GIF89a' + bytes(20), 'unsupported format: GIF'),
        (b'RIFF\x00\x00\x00\x00WEBPVP8 ' + bytes(20) + b'x', 'corrupt WebP'),
        (b'%PDF-1.4\n%...', 'unsupported format: PDF'),
        (b'\x00\x01\x02\xfe\xff' * 4, 'not an image: unknown content starting '
         '00 01 02 fe ff 00 01 02'),
        ('Zeichen ünïcødé, not an image'.encode(), 'not an image: a text file'),
    ])
def test_reason_by_content(tmp_path, content, expected):
    path = tmp_path / 'x.png'
    path.write_bytes(content)
    assert unreadable_reason(str(path)) == expected


def test_complete_jpeg_that_fails_quotes_the_loaders_error(tmp_path):
    path = tmp_path / 'x.jpg'
    path.write_bytes(b'\xff\xd8\xff\xe0' + bytes(30) + b'\xff\xd9')
    assert unreadable_reason(str(path)) == 'corrupt JPEG'
    assert (unreadable_reason(
        str(path),
        ValueError('bad Huffman table\nmore')) == 'corrupt JPEG: ValueError: bad Huffman table')


def test_image_over_the_decoders_size_limit(tmp_path):
    """A JPEG whose header says 40000 x 40000: OpenCV refuses to decode it."""
    ok, data = cv2.imencode('.jpg', np.zeros((16, 16, 3), np.uint8))
    data = bytearray(data.tobytes())
    frame = data.find(b'\xff\xc0') + 5  # baseline frame header: height, width
    data[frame:frame + 4] = struct.pack('>HH', 40000, 40000)
    path = tmp_path / 'huge.jpg'
    path.write_bytes(bytes(data))
    with pytest.raises(Exception) as caught:
        LoadImageFromFile(color_type='color_ignore_orientation')(dict(img_path=str(path)))
    assert (unreadable_reason(str(path), caught.value) ==
            "JPEG too large to decode (over 2^30 pixels, OpenCV's CV_IO_MAX_IMAGE_PIXELS)")


def test_unopenable_file_and_the_error_type(tmp_path):
    assert unreadable_reason(str(tmp_path)).startswith('cannot be opened: ')  # a folder
    error = UnreadableImageError('a/b.jpg', 'empty file')
    assert isinstance(error, OSError)
    assert (str(error), error.path, error.reason) == ('a/b.jpg: empty file', 'a/b.jpg',
                                                      'empty file')
