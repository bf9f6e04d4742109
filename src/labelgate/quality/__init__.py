"""The quality engine: agreement, spatial matching, gold scoring, truth inference, drift,
evaluation and reports. Pure functions over arrays plus small accumulators; imports only core."""

from __future__ import annotations

__all__: list[str] = []

# categorical agreement (the function shadows its subpackage on purpose: quality.agreement(...)),
# gold scoring, truth inference, drift
from labelgate.quality.agreement import AgreementResult, RatingTable, agreement, rating_table
from labelgate.quality.drift import Cusum, WindowedAgreement, cusum, test_retest
from labelgate.quality.gold import GoldAccumulator, GoldReport, score_gold
from labelgate.quality.inference import Consensus, DawidSkene, dawid_skene, majority_vote

__all__ += ["AgreementResult", "RatingTable", "agreement", "rating_table"]
__all__ += ["Consensus", "Cusum", "DawidSkene", "GoldAccumulator", "GoldReport", "WindowedAgreement", "cusum", "dawid_skene",
            "majority_vote", "score_gold", "test_retest"]
