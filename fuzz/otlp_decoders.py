"""Coverage-guided fuzz target for tsdev's OTLP decoders (protobuf and JSON, all three signals).

    uv run python fuzz/otlp_decoders.py [libFuzzer flags] [corpus directory ...]

The first byte of an input picks the signal and the encoding; the rest is the request body. Every
input must either decode, with rows that convert to Arrow, or be refused as a bad request (which the
receivers answer with 400). Anything else (an exception, a crash, a hang) is a finding. With no
corpus directory it starts from the seeds that ``--write-seeds DIR`` writes: the OTLP/JSON examples
published with the protocol (when present beside the repository) and realistic protobuf requests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["tsdev.ingest"]):
    from tsdev.ingest.decode import TableRows
    from tsdev.ingest.signals import SIGNALS, BadRequest

_CHOICES = [(signal, json_body) for signal in SIGNALS.values() for json_body in (False, True)]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    signal, json_body = _CHOICES[data[0] % len(_CHOICES)]
    try:
        decoded = signal.decode(data[1:], json_body=json_body)
    except BadRequest:
        return
    if decoded.accepted < 0 or decoded.rejected < 0:
        raise AssertionError(f"negative counts: {decoded.accepted}, {decoded.rejected}")
    for rows in decoded.rows:
        if isinstance(rows, TableRows):
            rows.to_arrow()
    signal.response(decoded).SerializeToString()


def write_seeds(directory: Path) -> int:
    """Seed inputs for every signal and encoding; returns how many were written."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from tsdev.ingest.decode.otlp_json import parse_json

    directory.mkdir(parents=True, exist_ok=True)
    examples = Path(__file__).resolve().parents[2] / "shared" / "otlp-examples"
    messages = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest}
    messages["metrics"] = ExportMetricsServiceRequest
    written = 0
    for name, json_name in (("traces", "trace.json"), ("logs", "logs.json"), ("metrics", "metrics.json")):
        path = examples / json_name
        if not path.exists():
            continue
        document = path.read_bytes()
        binary = parse_json(document, messages[name]()).SerializeToString()
        for body, json_body in ((document, True), (binary, False)):
            choice = _CHOICES.index((SIGNALS[name], json_body))
            (directory / f"{name}-{'json' if json_body else 'protobuf'}").write_bytes(bytes([choice]) + body)
            written += 1
    return written


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        print(f"wrote {write_seeds(Path(sys.argv[2]))} seeds to {sys.argv[2]}")
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
