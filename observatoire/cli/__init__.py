"""The ``observatoire`` command: the only part of the core that imports ingest, dashboard or sample_data."""
