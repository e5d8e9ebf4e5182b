from .icdar2015_hmean import ICDAR2015HmeanMetric

__all__ = ['ICDAR2015HmeanMetric']
