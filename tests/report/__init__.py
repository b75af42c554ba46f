"""Tests of `abm.report`."""
