"""videobot: the shared kernel of the bot, the generator and storage (config, parameters)."""

__version__ = "0.1.0"
