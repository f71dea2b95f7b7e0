"""`python -m generator worker|generate|doctor|train-demo` (see `generator.cli`)."""

from generator.cli import run

run()
