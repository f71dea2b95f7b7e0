"""Text-to-video backends behind one interface (see `base.Backend`)."""
