"""The quality engine: agreement, spatial matching, gold scoring, truth inference, drift,
evaluation and reports. Pure functions over arrays plus small accumulators; imports only core."""

from __future__ import annotations

__all__: list[str] = []

# categorical agreement (the function shadows its subpackage on purpose: quality.agreement(...))
from labelgate.quality.agreement import AgreementResult, RatingTable, agreement, rating_table

__all__ += ["AgreementResult", "RatingTable", "agreement", "rating_table"]
