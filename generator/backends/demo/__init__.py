"""The embedded demo model: a small text-to-video conditional GAN trained from scratch on
procedural clips of coloured shapes, plus a video-to-text captioner (see MODEL_CARD.md)."""
