"""Checkers of students' exercise functions, one module per topic."""
