"""Benchmarks: plaintext baselines and the hashed pipeline, scored on FEBRL."""
