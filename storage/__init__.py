"""videobot."""
