"""Arithmetic and measurements of networks, without training (counts, timings, receptive fields)."""
