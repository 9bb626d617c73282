"""Design-based estimation (Taylor linearisation, as R's survey package) and the study's
weights. ``from survey.analysis import Design``."""

from survey.analysis.design import Design, Domains

__all__ = ["Design", "Domains"]
