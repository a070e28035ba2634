"""Training loops and what they record, for the notebooks' demos."""
