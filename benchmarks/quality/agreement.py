"""Categorical agreement at scale: Labelgate against the reference packages, same data, same process.

Data: 1,000,000 units x 5 raters, 5 categories, each rating the unit's true category with
probability 0.7 (else uniform), then 20% of ratings removed at random (seeded).

- Krippendorff's alpha (nominal): ``krippendorff.alpha`` vs ``labelgate.quality.agreement`` with its
  analytic SE (the default) and value-only (``ci_method="none"``); both start from the same float array.
- Fleiss' kappa with missing ratings (Gwet's generalisation): ``irrCAC`` ``CAC.fleiss`` vs ours (value + SE).
- Fleiss' kappa on complete data (before removing ratings): ``statsmodels`` (aggregate_raters +
  fleiss_kappa) vs ours.

Times are the best of ``--repeat`` runs (wall clock). Values must agree to 1e-9 or the run fails.
Writes the ``## Quality: agreement`` section of benchmarks/RESULTS.md (``--no-write`` to skip).

    .venv/bin/python benchmarks/quality/agreement.py [--units 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
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


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return min(times), value


def run(units: int, repeat: int) -> list[tuple[str, str, float, float, float]]:
    import krippendorff
    import pandas as pd
    from irrCAC.raw import CAC
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    complete, data = make(units)
    rows: list[tuple[str, str, float, float, float]] = []

    t_ref, ref = best(lambda: krippendorff.alpha(data.T, level_of_measurement="nominal"), repeat)
    t_se, ours = best(lambda: agreement(data, "krippendorff_alpha"), repeat)
    t_val, ours_v = best(lambda: agreement(data, "krippendorff_alpha", ci_method="none"), repeat)
    assert abs(ours.value - ref) < 1e-9 and abs(ours_v.value - ref) < 1e-9, (ours.value, ref)
    rows.append(("Krippendorff alpha, nominal", "krippendorff", t_ref, t_se, ours.value))
    rows.append(("Krippendorff alpha, nominal (value only)", "krippendorff", t_ref, t_val, ours_v.value))

    def irr() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(CAC(pd.DataFrame(data), digits=15).fleiss()["est"]["coefficient_value"])

    t_irr, ref_f = best(irr, 1)
    t_f, ours_f = best(lambda: agreement(data, "fleiss_kappa"), repeat)
    assert abs(ours_f.value - ref_f) < 1e-9, (ours_f.value, ref_f)
    rows.append(("Fleiss kappa, 20% missing (value + SE)", "irrCAC", t_irr, t_f, ours_f.value))

    t_sm, ref_c = best(lambda: fleiss_kappa(aggregate_raters(complete.astype(int), n_cat=5)[0]), repeat)
    t_c, ours_c = best(lambda: agreement(complete, "fleiss_kappa", ci_method="none"), repeat)
    assert abs(ours_c.value - ref_c) < 1e-9, (ours_c.value, ref_c)
    rows.append(("Fleiss kappa, complete data (value only)", "statsmodels", t_sm, t_c, ours_c.value))
    return rows


def render(rows: list[tuple[str, str, float, float, float]], units: int, repeat: int) -> str:
    lines = [
        SECTION, "",
        f"`benchmarks/quality/agreement.py`: {units:,} units x 5 raters, 5 categories, 20% of ratings missing; "
        f"best of {repeat} runs (irrCAC: 1 run); Python {platform.python_version()}, numpy {np.__version__}, "
        f"on a shared 2-core machine. Values agree with the peer to 1e-9 (asserted).",
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
