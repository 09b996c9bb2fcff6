"""A small web shop with the performance problems tsdev is built to find, on purpose.

``shop.app`` is the FastAPI service, ``shop.downstream`` the stub services it calls, ``shop.db`` its
SQLite store, ``shop.telemetry`` the OpenTelemetry set-up, ``shop.traffic`` the traffic generator.
"""

__version__ = "1.0.0"
