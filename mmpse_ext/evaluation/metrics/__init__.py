from .icdar2015_hmean import ICDAR2015HmeanMetric
from .totaltext_deteval import TotalTextDetEvalMetric

__all__ = ['ICDAR2015HmeanMetric', 'TotalTextDetEvalMetric']
