"""Retrieval legs beyond the vector selector, their fusion and their evaluation metrics."""
