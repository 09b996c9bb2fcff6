"""Detectors, seasonality, forecasting and the analysis job runner will live here."""
