"""Categorical agreement at scale: Labelgate against the reference packages, same data, same process.

Data: 1,000,000 units x 5 raters, 5 categories, each rating the unit's true category with
probability 0.7 (else uniform), then 20% of ratings removed at random (seeded).

- Krippendorff's alpha (nominal): ``krippendorff.alpha`` vs ``labelgate.quality.agreement`` with its
  analytic SE (the default) and value-only (``ci_method="none"``); both start from the same float array.
- Fleiss' kappa with missing ratings (Gwet's generalisation): ``irrCAC`` ``CAC.fleiss`` vs ours (value + SE).
- Fleiss' kappa on complete data (before removing ratings): ``statsmodels`` (aggregate_raters +
  fleiss_kappa) vs ours.

Times are the best of ``--repeat`` runs (wall clock), peer and Labelgate alternating. Values must agree to 1e-9 or the run fails.
Writes the ``## Quality: agreement`` section of benchmarks/RESULTS.md (``--no-write`` to skip).

    .venv/bin/python benchmarks/quality/agreement.py [--units 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.quality import agreement

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
SECTION = "## Quality: agreement"


def make(units: int, raters: int = 5, q: int = 5, missing: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, units)
    complete = np.where(rng.random((units, raters)) < 0.7, truth[:, None], rng.integers(0, q, (units, raters))).astype(float)
    data = complete.copy()
    data[rng.random((units, raters)) < missing] = np.nan
    return complete, data


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def paired(peer: Callable[[], Any], ours: Callable[[], Any], repeat: int) -> tuple[float, Any, float, Any]:
    """Best-of-``repeat`` for both, run alternately so that both see the same machine load."""
    tp, to = [], []
    vp = vo = None
    for _ in range(repeat):
        t, vp = timed(peer)
        tp.append(t)
        t, vo = timed(ours)
        to.append(t)
    return min(tp), vp, min(to), vo


def run(units: int, repeat: int) -> list[tuple[str, str, float, float, float]]:
    import krippendorff
    import pandas as pd
    from irrCAC.raw import CAC
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    complete, data = make(units)
    rows: list[tuple[str, str, float, float, float]] = []

    def kripp() -> float:
        return float(krippendorff.alpha(data.T, level_of_measurement="nominal"))

    t_ref, ref, t_se, ours = paired(kripp, lambda: agreement(data, "krippendorff_alpha"), repeat)
    t_ref2, _, t_val, ours_v = paired(kripp, lambda: agreement(data, "krippendorff_alpha", ci_method="none"), repeat)
    assert abs(ours.value - ref) < 1e-9 and abs(ours_v.value - ref) < 1e-9, (ours.value, ref)
    rows.append(("Krippendorff alpha, nominal (value + SE + CI)", "krippendorff", t_ref, t_se, ours.value))
    rows.append(("Krippendorff alpha, nominal (value only)", "krippendorff", t_ref2, t_val, ours_v.value))

    def irr() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(CAC(pd.DataFrame(data), digits=15).fleiss()["est"]["coefficient_value"])

    t_irr, ref_f, t_f, ours_f = paired(irr, lambda: agreement(data, "fleiss_kappa"), 1)
    assert abs(ours_f.value - ref_f) < 1e-9, (ours_f.value, ref_f)
    rows.append(("Fleiss kappa, 20% missing (value + SE + CI)", "irrCAC", t_irr, t_f, ours_f.value))

    t_sm, ref_c, t_c, ours_c = paired(lambda: fleiss_kappa(aggregate_raters(complete.astype(int), n_cat=5)[0]),
                                      lambda: agreement(complete, "fleiss_kappa", ci_method="none"), repeat)
    assert abs(ours_c.value - ref_c) < 1e-9, (ours_c.value, ref_c)
    rows.append(("Fleiss kappa, complete data (value only)", "statsmodels", t_sm, t_c, ours_c.value))
    return rows


def render(rows: list[tuple[str, str, float, float, float]], units: int, repeat: int) -> str:
    lines = [
        SECTION, "",
        f"`benchmarks/quality/agreement.py`: {units:,} units x 5 raters, 5 categories, 20% of ratings missing; "
        f"best of {repeat} runs, peer and Labelgate alternating (irrCAC: 1 run); Python {platform.python_version()}, "
        f"numpy {np.__version__}, on a shared 2-core machine (load average {os.getloadavg()[0]:.1f} at the end). "
        "Values agree with the peer to 1e-9 (asserted).",
        "",
        "| computation | peer | peer s | Labelgate s | speed-up (peer / Labelgate) | value |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {peer} | {tp:.3f} | {to:.3f} | {tp / to:.1f}x | {v:.6f} |" for name, peer, tp, to, v in rows]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[end + 1:] if end >= 0 else "")
    RESULTS.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = render(run(args.units, args.repeat), args.units, args.repeat)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
