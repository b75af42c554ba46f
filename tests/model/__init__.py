"""Tests of `abm.model`."""
