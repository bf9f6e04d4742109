"""``labelgate qa ...``: quality commands. Each command module registers itself on ``qa_app``
and is imported at the bottom of this file."""

from __future__ import annotations

import typer

qa_app = typer.Typer(name="qa", help="Quality: agreement, comparison, gold, consensus, evaluation, reports.",
                     no_args_is_help=True)

from labelgate.cli import qa_agreement, qa_spatial  # noqa: E402,F401
