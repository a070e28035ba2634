"""Arithmetic and measurements on models and data: no training loops, no plotting."""
