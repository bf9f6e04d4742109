"""The quality engine: agreement, spatial matching, gold scoring, truth inference, drift,
evaluation and reports. Pure functions over arrays plus small accumulators; imports only core."""

from __future__ import annotations

__all__: list[str] = []
