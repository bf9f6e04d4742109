"""The value an agreement computation returns, and the interpretation scales that name it.

A scale is an ascending sequence of ``(lower_bound, band)``: a value gets the band of the largest
lower bound it reaches (inclusive). ``LANDIS_KOCH`` (Landis & Koch 1977) is the default for kappa-type
coefficients, ``KRIPPENDORFF`` (Krippendorff 2004: discard below 0.667, tentative below 0.800)
for alpha. Pass your own through ``agreement(..., scale=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["KRIPPENDORFF", "LANDIS_KOCH", "AgreementResult", "Scale", "interpret"]

Scale = Sequence[tuple[float, str]]

_ABOVE = math.inf  # direction for math.nextafter: "just above" a published band edge

LANDIS_KOCH: tuple[tuple[float, str], ...] = (  # bands 0.00-0.20, 0.21-0.40, ...: each closed above
    (-math.inf, "poor"),
    (0.0, "slight"),
    (math.nextafter(0.2, _ABOVE), "fair"),
    (math.nextafter(0.4, _ABOVE), "moderate"),
    (math.nextafter(0.6, _ABOVE), "substantial"),
    (math.nextafter(0.8, _ABOVE), "almost perfect"),
)
KRIPPENDORFF: tuple[tuple[float, str], ...] = (
    (-math.inf, "unreliable"),
    (0.667, "tentative"),
    (0.8, "reliable"),
)


def interpret(value: float, scale: Scale) -> str:
    """The band of ``value`` on ``scale``: the last band whose lower bound ``value`` reaches
    (bounds are inclusive; ``"undefined"`` for NaN)."""
    if not math.isfinite(value):
        return "undefined"
    band = scale[0][1]
    for lower, name in scale:
        if value >= lower:
            band = name
    return band


@dataclass(frozen=True)
class AgreementResult:
    """One agreement coefficient with its uncertainty and the numbers that explain it.

    ``observed`` and ``expected`` are the observed and chance agreement (for Krippendorff's alpha:
    1 - D_o and 1 - D_e on the distance scale normalised to [0, 1], so that
    value = (observed - expected) / (1 - expected) holds for every metric).
    ``prevalence_index`` and ``bias_index`` (Byrt, Bishop & Carlin 1993) are set for two raters:
    for two categories PI = (n_11 - n_22)/n and BI = (n_12 - n_21)/n (signed); for more categories
    PI is None and BI is half the L1 distance between the two raters' marginal distributions.
    ``extra`` holds metric-specific numbers: ``pabak`` (prevalence- and bias-adjusted kappa,
    2 p_o - 1, two raters and two categories), ``se_null``/``z_null`` (Fleiss' kappa under kappa = 0).
    """

    metric: str
    value: float
    se: float | None
    ci: tuple[float, float] | None
    observed: float
    expected: float
    units: int
    raters: int | None
    pairable_units: int
    values: int
    pairable_values: int
    categories: tuple[Any, ...]
    weights: str | None = None
    level: str | None = None
    ci_method: str = "analytic"
    confidence: float = 0.95
    interpretation: str = "undefined"
    prevalence_index: float | None = None
    bias_index: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        out = asdict(self)
        out["categories"] = [c if isinstance(c, str | int | float | bool) or c is None else str(c) for c in self.categories]
        out["ci"] = None if self.ci is None else [_clean(v) for v in self.ci]
        for key in ("value", "se", "observed", "expected", "prevalence_index", "bias_index"):
            out[key] = _clean(out[key])
        out["extra"] = {k: _clean(v) for k, v in self.extra.items()}
        return out


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
