"""The quality engine: agreement, spatial matching, gold scoring, truth inference, drift,
evaluation and reports. Pure functions over arrays plus small accumulators; imports only core."""

from __future__ import annotations

__all__: list[str] = []

# categorical agreement (the function shadows its subpackage on purpose: quality.agreement(...)),
# gold scoring, truth inference, drift; spatial agreement, spans, fusion, evaluation, reports
from labelgate.quality.agreement import AgreementAccumulator, AgreementResult, RatingTable, agreement, rating_table
from labelgate.quality.drift import Cusum, WindowedAgreement, cusum, test_retest
from labelgate.quality.evaluation import (
    COCO_STATS,
    DetectionEvaluation,
    NerScores,
    SegmentationAccumulator,
    coco_evaluate,
    ner_evaluate,
    ner_scores,
    ner_scores_from_tags,
)
from labelgate.quality.fusion import fuse_dataset, fuse_masks, fuse_regions
from labelgate.quality.gold import GoldAccumulator, GoldReport, score_gold
from labelgate.quality.inference import Consensus, DawidSkene, dawid_skene, majority_vote
from labelgate.quality.iou import box_iou, iou_matrix, mask_dice, mask_iou, oks, shape_iou
from labelgate.quality.matching import Matching, cluster, match, match_greedy
from labelgate.quality.report import QualityReport
from labelgate.quality.spans import SpanAgreement, decode_tags, span_agreement
from labelgate.quality.spatial import Conflict, MultiAgreement, PairAccumulator, PairAgreement, compare, spatial_agreement

__all__ += ["AgreementAccumulator", "AgreementResult", "RatingTable", "agreement", "rating_table"]
__all__ += ["Consensus", "Cusum", "DawidSkene", "GoldAccumulator", "GoldReport", "WindowedAgreement", "cusum", "dawid_skene",
            "majority_vote", "score_gold", "test_retest"]
__all__ += ["Conflict", "Matching", "MultiAgreement", "PairAccumulator", "PairAgreement", "box_iou", "cluster", "compare",
            "iou_matrix", "mask_dice", "mask_iou", "match", "match_greedy", "oks", "shape_iou", "spatial_agreement"]
__all__ += ["SpanAgreement", "decode_tags", "span_agreement", "fuse_dataset", "fuse_masks", "fuse_regions"]
__all__ += ["COCO_STATS", "DetectionEvaluation", "NerScores", "QualityReport", "SegmentationAccumulator", "coco_evaluate",
            "ner_evaluate", "ner_scores", "ner_scores_from_tags"]
