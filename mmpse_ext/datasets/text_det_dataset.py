"""Text detection dataset named for any of its formats (ICDAR2015, CTW1500, Total-Text)."""
from ..registry import DATASETS
from .icdar2015_dataset import ICDAR2015Dataset


@DATASETS.register_module()
class TextDetDataset(ICDAR2015Dataset):
    """:class:`ICDAR2015Dataset` under a name that fits every format it reads.

    The same readers, bad-data reporting and metainfo rules; only ``data_root`` has no
    default (ICDAR2015Dataset's is the seed's ICDAR2015 folder), so a curved-text config
    always says where its data is. ``ann_format='ctw1500'`` reads SCUT-CTW1500 and
    ``'totaltext'`` Total-Text (default folders: ``FORMAT_DEFAULTS`` in
    ``icdar2015_dataset.py``; docs/recipe.md).

    Args:
        data_root (str): Dataset root; the default annotation and image folders are relative
            to it.
        ann_format (str): See :class:`ICDAR2015Dataset`.
        **kwargs: Everything else :class:`ICDAR2015Dataset` takes.
    """

    def __init__(self, data_root: str, ann_format: str, **kwargs) -> None:
        super().__init__(data_root=data_root, ann_format=ann_format, **kwargs)
