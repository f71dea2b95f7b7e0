"""The generator: worker loop, model backends and the MP4 encoder. Never imports chat libraries."""
