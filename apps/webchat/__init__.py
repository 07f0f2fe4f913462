"""The web chat page at /chat/: a browser client of the websocket protocol and the REST API."""
