"""Evaluation: the official ICDAR2015 protocol as an mmengine metric, and its formulas."""
from .metrics import ICDAR2015HmeanMetric

__all__ = ['ICDAR2015HmeanMetric']
