"""Thin translations between a chat platform and the core. One file per platform."""
