"""OTLP receivers, decoding to columns and the batching writer."""
