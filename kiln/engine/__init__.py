"""Build progress as data: timelines applied lazily when resources are read."""
