"""The /api/v1 views of knowledge: content and search reads, the write side (records one by one, feeds in bulk)."""
