"""Evaluation: the official ICDAR2015 and Total-Text DetEval protocols as mmengine metrics, and
their formulas."""
from .metrics import ICDAR2015HmeanMetric, TotalTextDetEvalMetric

__all__ = ['ICDAR2015HmeanMetric', 'TotalTextDetEvalMetric']
