from .icdar2015_protocol import (DetectionScores, dont_care_detections, greedy_match_count,
                                 intersection_over_union, pooled_scores)
from .polygon_geometry import (PolygonGeometries, batch_intersection_areas, build_geometries,
                               flat_polygon_points)

__all__ = [
    'DetectionScores', 'dont_care_detections', 'greedy_match_count', 'intersection_over_union',
    'pooled_scores', 'PolygonGeometries', 'batch_intersection_areas', 'build_geometries',
    'flat_polygon_points'
]
