"""The ``labelgate`` command line. Commands parse, call the library or a service, render."""

from labelgate.cli.main import app

__all__ = ["app"]
