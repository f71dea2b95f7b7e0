"""Local fakes of the chat platforms' APIs, serving the real clients on 127.0.0.1."""

#: Connections a fake keeps waiting to be accepted. aiohttp's 128 is less than a burst opens
#: at once (discord.py's client has no connection limit, the Telegram bot's allows 256): the
#: rest would wait for the kernel's SYN retry, one second.
LISTEN_BACKLOG = 1024
