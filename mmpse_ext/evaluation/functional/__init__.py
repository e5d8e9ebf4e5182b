from .deteval_protocol import (OFFICIAL_FSC_K, OFFICIAL_K, OFFICIAL_TP, OFFICIAL_TR, DetEvalMatches,
                               DetEvalScores, coverage_tables, deteval_matches, deteval_scores)
from .icdar2015_protocol import (DetectionScores, dont_care_detections, greedy_match_count,
                                 intersection_over_union, max_matching_count, pooled_scores)
from .polygon_geometry import (AREA_RULES, PolygonGeometries, batch_intersection_areas,
                               build_geometries, even_odd_region, flat_polygon_points,
                               shoelace_areas)

__all__ = [
    'OFFICIAL_FSC_K', 'OFFICIAL_K', 'OFFICIAL_TP', 'OFFICIAL_TR', 'DetEvalMatches', 'DetEvalScores',
    'coverage_tables', 'deteval_matches', 'deteval_scores', 'DetectionScores',
    'dont_care_detections', 'greedy_match_count', 'intersection_over_union', 'max_matching_count',
    'pooled_scores', 'AREA_RULES', 'PolygonGeometries', 'batch_intersection_areas',
    'build_geometries', 'even_odd_region', 'flat_polygon_points', 'shoelace_areas'
]
