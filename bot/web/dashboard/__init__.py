"""The web dashboard under `/dashboard` and `GET /metrics`, on the HTTP API's server: pages
rendered on the server from templates, signed in with an API key, updated live by
server-sent events, acting through the same core and storage functions as the chats."""
