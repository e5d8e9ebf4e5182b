"""Why an image file could not be read, in a few words for a warning line.

The image loader of a test pipeline (MMOCR's ``LoadImageFromFile``) only says ``<file> is
broken``. :func:`unreadable_reason` looks at the file itself, after the loader failed, and names
the cause a user can act on: an empty file, a file that is not an image (a text file named
``.png``), a truncated or corrupt JPEG/PNG/…, or an image format the loader does not decode
(GIF, HEIF, PDF, …).
"""
import os
from typing import Optional

#: Formats the image loader (OpenCV, MMOCR's default backend) decodes; see ``IMAGE_EXTENSIONS``.
DECODED_FORMATS = ('JPEG', 'PNG', 'BMP', 'TIFF', 'WebP')

#: Leading bytes of common image (and image-like) files.
SIGNATURES = (
    (b'\xff\xd8\xff', 'JPEG'),
    (b'\x89PNG\r\n\x1a\n', 'PNG'),
    (b'BM', 'BMP'),
    (b'II*\x00', 'TIFF'),
    (b'MM\x00*', 'TIFF'),
    (b'GIF87a', 'GIF'),
    (b'GIF89a', 'GIF'),
    (b'\x00\x00\x00\x0cjP  \r\n\x87\n', 'JPEG 2000'),
    (b'\xff\x4f\xff\x51', 'JPEG 2000'),
    (b'%PDF', 'PDF'),
    (b'8BPS', 'Photoshop'),
)

#: ``ftyp`` brands of ISO media files that hold still images.
HEIF_BRANDS = {
    b'heic': 'HEIC',
    b'heix': 'HEIC',
    b'mif1': 'HEIF',
    b'msf1': 'HEIF',
    b'avif': 'AVIF',
    b'avis': 'AVIF'
}

#: What OpenCV's assertion names when an image has more pixels than it decodes (2^30).
DECODER_SIZE_LIMIT = 'CV_IO_MAX_IMAGE_PIXELS'

#: How much of a file is read to recognise it.
HEAD_BYTES = 64


class UnreadableImageError(OSError):
    """An input image file that cannot be read.

    Attributes:
        path (str): the file.
        reason (str): why, in a few words (:func:`unreadable_reason`).
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f'{path}: {reason}')
        self.path = path
        self.reason = reason


def image_format(head: bytes) -> Optional[str]:
    """The image format whose signature ``head`` (a file's first bytes) starts with, or None."""
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'WebP'
    if head[4:8] == b'ftyp':
        return HEIF_BRANDS.get(head[8:12], 'MP4/QuickTime video')
    return None


def _looks_like_text(head: bytes) -> bool:
    """True when ``head`` is printable UTF-8 (it may end inside a multi-byte character)."""
    for cut in range(4):
        try:
            text = head[:len(head) - cut].decode('utf-8')
        except UnicodeDecodeError:
            continue
        return all(c.isprintable() or c in '\t\r\n\f' for c in text)
    return False


def _is_truncated(path: str, name: str, size: int) -> bool:
    """True when a JPEG lacks its end-of-image marker or a PNG its ``IEND`` chunk."""
    tail_size = min(size, 1024)
    with open(path, 'rb') as f:
        f.seek(size - tail_size)
        tail = f.read(tail_size)
    if name == 'JPEG':
        return not tail.rstrip(b'\x00\r\n ').endswith(b'\xff\xd9')
    if name == 'PNG':
        return b'IEND' not in tail
    return False


def unreadable_reason(path: str, loader_error: Optional[BaseException] = None) -> str:
    """Name the reason an image file could not be loaded.

    Args:
        path (str): the file the loader failed on.
        loader_error (BaseException, optional): what the loader raised, quoted when the file
            looks like a complete image of a decoded format (so its own message is the best
            reason we have).

    Returns:
        str: e.g. ``'empty file'``, ``'not an image: a text file'``, ``'truncated JPEG'``,
        ``'corrupt PNG'``, ``'unsupported format: HEIC'``, ``'cannot be opened: Permission
        denied'``.
    """
    try:
        size = os.path.getsize(path)
        with open(path, 'rb') as f:
            head = f.read(HEAD_BYTES)
    except OSError as error:
        return f'cannot be opened: {error.strerror or error}'
    if size == 0:
        return 'empty file'
    name = image_format(head)
    if name is None:
        if _looks_like_text(head):
            return 'not an image: a text file'
        return f'not an image: unknown content starting {head[:8].hex(" ")}'
    if name not in DECODED_FORMATS:
        return f'unsupported format: {name}'
    if loader_error is not None and DECODER_SIZE_LIMIT in str(loader_error):
        return (f'{name} too large to decode (over 2^30 pixels, OpenCV\'s '
                f'{DECODER_SIZE_LIMIT})')
    if _is_truncated(path, name, size):
        return f'truncated {name}'
    if loader_error is not None and 'is broken' not in str(loader_error):
        first_line = (str(loader_error).strip().splitlines() or [''])[0]
        return f'corrupt {name}: {type(loader_error).__name__}: {first_line}'
    return f'corrupt {name}'
