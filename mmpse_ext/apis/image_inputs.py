"""Turn what a user points the detector at (files, folders, globs) into a list of images, and
give each a relative name that keeps two ``img_1.jpg`` of different folders apart."""
import glob
import os
import os.path as osp
from typing import List, Sequence, Union

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def is_image_file(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def images_in_folder(folder: str) -> List[str]:
    """Image files under ``folder`` and its sub-folders, sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(osp.join(root, name) for name in sorted(files) if is_image_file(name))
    return found


def collect_images(inputs: Union[str, Sequence[str]]) -> List[str]:
    """Expand image paths, folders (searched recursively) and glob patterns.

    Args:
        inputs (str | Sequence[str]): one or several paths or patterns.

    Returns:
        list[str]: image files in the order given (each folder and pattern sorted), every file
        once.

    Raises:
        FileNotFoundError: an input is neither an image, a folder with images, nor a pattern
            matching images.
    """
    if isinstance(inputs, str):
        inputs = [inputs]
    images = []
    for item in inputs:
        if osp.isdir(item):
            found = images_in_folder(item)
        elif osp.isfile(item):
            found = [item]
        else:
            found = sorted(
                path for path in glob.glob(item, recursive=True)
                if osp.isfile(path) and is_image_file(path))
        if not found:
            raise FileNotFoundError(f'input {item!r} is not an image, a folder with images or a '
                                    'glob pattern matching images')
        images.extend(found)
    return list(dict.fromkeys(images))


def relative_names(images: Sequence[str]) -> List[str]:
    """Names for the outputs of ``images``: their paths relative to the deepest common folder,
    without extension (``a/img_1.jpg``, ``b/img_1.jpg`` → ``a/img_1``, ``b/img_1``).

    Distinct files get distinct names, except files that differ only by extension in the same
    folder (``x.jpg``, ``x.png``), which keep their extension to stay apart.
    """
    if not images:
        return []
    absolute = [osp.abspath(path) for path in images]
    common = osp.commonpath([osp.dirname(path) for path in absolute])
    names = [osp.splitext(osp.relpath(path, common))[0] for path in absolute]
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [
        osp.relpath(path, common) if counts[name] > 1 else name
        for path, name in zip(absolute, names)
    ]
