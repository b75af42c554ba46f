"""Tests of `abm.cli`."""
