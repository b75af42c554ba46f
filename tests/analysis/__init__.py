"""Tests of `abm.analysis`."""
