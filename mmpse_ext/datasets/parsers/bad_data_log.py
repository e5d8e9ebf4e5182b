"""Bookkeeping for bad annotation data: one warning per problem, counted by kind."""
import warnings
from collections import Counter
from typing import Dict


class BadAnnotationWarning(UserWarning):
    """Category of every bad-data warning, so users can filter or escalate them."""


class BadDataLog:
    """Warns about each bad item (naming file and line) and counts it by kind.

    The kinds used by the readers are the class attributes below; the dataset logs
    :meth:`summary` once the annotations are loaded.
    """

    MALFORMED_LINE = 'malformed line'
    MALFORMED_INSTANCE = 'malformed instance'
    NON_FINITE = 'non-finite coordinates'
    DEGENERATE = 'degenerate polygon'
    SELF_INTERSECTING = 'self-intersecting polygon'
    MISSING_IMAGE = 'missing image'
    CORRUPT_IMAGE = 'unreadable image'
    EMPTY_ANNOTATION = 'empty annotation'
    MISSING_ANNOTATION = 'missing annotation file'

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def report(self, kind: str, where: str, message: str, action: str) -> None:
        """Warn about one bad item and count it.

        Args:
            kind (str): One of the class constants (the counter key).
            where (str): ``file:line`` (or ``file: data_list[i]`` for JSON).
            message (str): What is wrong.
            action (str): What was done about it, e.g. ``'instance skipped'``.
        """
        self.counts[kind] += 1
        warnings.warn(f'{where}: {kind}: {message}; {action}', BadAnnotationWarning, stacklevel=2)

    def as_dict(self) -> Dict[str, int]:
        """Counts by kind (only kinds that occurred)."""
        return dict(self.counts)

    def summary(self) -> str:
        """One line, e.g. ``'3 malformed line, 1 missing image'`` or ``'none'``."""
        if not self.counts:
            return 'none'
        return ', '.join(f'{n} {kind}' for kind, n in sorted(self.counts.items()))
