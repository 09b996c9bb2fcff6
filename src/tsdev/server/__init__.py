"""The server that assembles tsdev's parts: receivers, HTTP API and background jobs in one process."""
