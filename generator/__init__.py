"""The generator: worker loop, model backends and its own command line (`python -m
generator`). Never imports chat libraries or the bot."""
