"""Checkers of the notebooks' exercises, one module per topic: each compares a student's function with an
established oracle and names the likely mistake."""
