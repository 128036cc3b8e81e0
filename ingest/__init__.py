"""Data sources: one module per source, on top of the shared reading and staging machinery."""
