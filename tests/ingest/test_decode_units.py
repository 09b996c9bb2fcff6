"""Value formatting, id checks and bounded decompression, one rule at a time."""

from __future__ import annotations

import gzip
import zlib

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from tsdev.ingest.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, decompress
from tsdev.ingest.decode.anyvalue import MAX_DEPTH, TRUNCATED_MARKER, format_double, to_text
from tsdev.ingest.decode.ids import optional_id, required_id


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (0.25, "0.25"),
        (-3.5, "-3.5"),
        (637.704, "637.704"),
        (1e21, "1e+21"),
        (1.5e22, "1.5e+22"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1.25e-7, "1.25e-7"),
        (0.000001, "0.000001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
    ],
)
def test_doubles_print_like_the_exporter(value: float, text: str) -> None:
    assert format_double(value) == text


def test_every_anyvalue_type_has_its_text() -> None:
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key="b", value=AnyValue(bytes_value=b"\x00\xff")),
                KeyValue(key="n", value=AnyValue()),
                KeyValue(key="d", value=AnyValue(double_value=float("inf"))),
                KeyValue(
                    key="l",
                    value=AnyValue(
                        array_value=ArrayValue(values=[AnyValue(int_value=-1), AnyValue(bool_value=False)])
                    ),
                ),
            ]
        )
    )
    assert to_text(nested) == '{"b":"AP8=","n":null,"d":"+Inf","l":[-1,false]}'
    assert to_text(AnyValue(string_value="héllo \u2603")) == "héllo \u2603"
    assert to_text(AnyValue(int_value=-(2**63))) == str(-(2**63))
    assert to_text(AnyValue(bytes_value=b"hi")) == "aGk="
    assert to_text(AnyValue()) == ""


def test_deep_nesting_is_cut_not_recursed_without_end() -> None:
    value = AnyValue(string_value="leaf")
    for _ in range(MAX_DEPTH + 10):
        value = AnyValue(array_value=ArrayValue(values=[value]))
    text = to_text(value)
    assert TRUNCATED_MARKER in text
    assert text.replace(TRUNCATED_MARKER, "").count("[") == MAX_DEPTH


def test_ids() -> None:
    assert required_id(b"\xab" * 8, 8, "span_id") == "ab" * 8
    assert optional_id(b"", 8, "span_id") == ""
    assert optional_id(b"\x00" * 8, 8, "span_id") == ""
    with pytest.raises(ValueError, match="must be 16 bytes, got 3"):
        required_id(b"abc", 16, "trace_id")
    with pytest.raises(ValueError, match="all zeros"):
        required_id(b"\x00" * 16, 16, "trace_id")
    with pytest.raises(ValueError, match="empty or 8 bytes"):
        optional_id(b"\x01", 8, "span_id")


def test_decompress_bounds_output_and_detects_damage() -> None:
    payload = b"x" * 10_000
    assert decompress(gzip.compress(payload), "gzip", 10_000) == payload
    assert decompress(zlib.compress(payload), "deflate", 10_000) == payload
    assert decompress(payload, "identity", 10_000) == payload
    with pytest.raises(BodyTooLarge):
        decompress(gzip.compress(payload), "gzip", 9_999)
    with pytest.raises(BadEncoding, match="truncated"):
        decompress(gzip.compress(payload)[:20], "gzip", 10_000)
    with pytest.raises(BadEncoding):
        decompress(b"plain text", "gzip", 10_000)
    with pytest.raises(UnsupportedEncoding):
        decompress(payload, "zstd", 10_000)
