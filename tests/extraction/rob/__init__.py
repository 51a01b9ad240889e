"""Tests of risk of bias: the pure engine, the app and the figures."""
