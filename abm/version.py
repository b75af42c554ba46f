"""The model's version: results record it, and a run id depends on it."""

__version__ = "0.3.0"
