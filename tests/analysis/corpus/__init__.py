"""A labelled detector corpus recorded from a small instrumented app with the real OpenTelemetry SDK.

Each scenario of :mod:`.manifest` is one service with one endpoint (:mod:`.app`) that does one thing
a detector must find, or a near miss it must not report. The app runs on FastAPI with the
OpenTelemetry FastAPI, httpx and sqlite3 instrumentations; its downstream services are a local HTTP
server that delays or fails answers the way a network service does (:mod:`.stubs`). Its spans go
through the SDK's batch processor and OTLP/HTTP exporter into tsdev's own receiver, and are read back
from the store the way an analysis job reads them (:mod:`.record`).
"""
