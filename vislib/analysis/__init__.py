"""Arithmetic and measurements of networks, no training: nonlinearities, receptive fields, R-CNN timings."""
