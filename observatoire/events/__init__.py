"""Dated, placed events of every source: filter, queries, in-memory store, grids, hot spots, density."""
