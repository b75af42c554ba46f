"""Tests of `abm.app`."""
