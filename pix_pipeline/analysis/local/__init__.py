"""Local detectors whose models ship inside PyPI packages: they run offline, without an API key."""
