"""The web front door: the OpenAI-compatible `/v1` API and its webhooks, on one aiohttp server
in the bot process."""
