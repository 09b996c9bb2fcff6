"""Free loopback ports for servers the tests start (the product's own helper)."""

from __future__ import annotations

from tsdev.server.background import free_port

__all__ = ["free_port"]
