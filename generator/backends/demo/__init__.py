"""The embedded demo model: a small video model trained from scratch on procedural clips of
coloured shapes, from text or from a picture, plus a picture reader and a video-to-text
captioner (see MODEL_CARD.md)."""
