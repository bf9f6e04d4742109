"""Labelgate: an annotation platform whose centre is quality assurance."""

__version__ = "0.1.0"
__all__ = ["__version__"]
