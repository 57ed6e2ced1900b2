"""Hand-encoded OTLP protobuf, for requests protobuf libraries refuse to build: strings that are
not UTF-8 and values nested deeper than their recursion limits. The collector's pdata accepts
both, so a client (or an attacker) can send them.

Field numbers are those of opentelemetry-proto's trace.proto and common.proto. Values are
Python values: str/bytes for string fields (bytes are sent as they are), int, float, bool,
`Bytes(b"...")` for bytes_value, list for array_value and dict (or a list of pairs, so keys need
not be str) for kvlist_value.
"""

import struct
from dataclasses import dataclass, field


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s are ten-byte varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(num: int, wire: int) -> bytes:
    return varint(num << 3 | wire)


def ld(num: int, payload: bytes | str) -> bytes:
    """A length-delimited field (strings, bytes, messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(num, 2) + varint(len(payload)) + payload


def fixed64(num: int, v: int) -> bytes:
    return tag(num, 1) + struct.pack("<Q", v)


def uvarint_field(num: int, v: int) -> bytes:
    return tag(num, 0) + varint(v)


@dataclass
class Bytes:
    """An AnyValue bytes_value (a plain `bytes` is a string_value that need not be UTF-8)."""

    data: bytes


def any_value(v) -> bytes:
    if isinstance(v, bool):
        return uvarint_field(2, int(v))
    if isinstance(v, (str, bytes)):
        return ld(1, v)
    if isinstance(v, int):
        return uvarint_field(3, v)
    if isinstance(v, float):
        return tag(4, 1) + struct.pack("<d", v)
    if isinstance(v, Bytes):
        return ld(7, v.data)
    if isinstance(v, list) and not (v and isinstance(v[0], tuple)):
        return ld(5, b"".join(ld(1, any_value(x)) for x in v))
    pairs = v.items() if isinstance(v, dict) else v
    return ld(6, b"".join(ld(1, key_value(k, x)) for k, x in pairs))


def key_value(k: str | bytes, v) -> bytes:
    return ld(1, k) + ld(2, any_value(v))


def attributes(num: int, attrs) -> bytes:
    pairs = attrs.items() if isinstance(attrs, dict) else attrs
    return b"".join(ld(num, key_value(k, v)) for k, v in pairs)


def nested_kvlist(depth: int, leaf) -> dict:
    """{"level": {"level": ... leaf}} with `depth` maps."""
    v = leaf
    for _ in range(depth):
        v = {"level": v}
    return v


@dataclass
class Event:
    name: str | bytes
    attrs: dict = field(default_factory=dict)
    time_ns: int = 1_760_000_000_100_000_000


@dataclass
class Span:
    trace_id: bytes
    span_id: bytes
    name: str | bytes
    attrs: dict | list = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    status_message: str | bytes = ""
    status_code: int = 0  # 2 = ERROR
    kind: int = 3  # CLIENT
    start_ns: int = 1_760_000_000_000_000_000
    dur_ns: int = 1_200_000_000

    def encode(self) -> bytes:
        out = ld(1, self.trace_id) + ld(2, self.span_id) + ld(5, self.name)
        out += uvarint_field(6, self.kind)
        out += fixed64(7, self.start_ns) + fixed64(8, self.start_ns + self.dur_ns)
        out += attributes(9, self.attrs)
        for e in self.events:
            out += ld(11, fixed64(1, e.time_ns) + ld(2, e.name) + attributes(3, e.attrs))
        if self.status_message or self.status_code:
            status = b""
            if self.status_message:
                status += ld(2, self.status_message)
            if self.status_code:
                status += uvarint_field(3, self.status_code)
            out += ld(15, status)
        return out


def export_request(resource: dict, scopes: list[tuple[str | bytes, list[Span]]]) -> bytes:
    """An ExportTraceServiceRequest (the same bytes as TracesData) with one resource."""
    rs = ld(1, attributes(1, resource))
    for name, spans in scopes:
        ss = ld(1, ld(1, name)) + b"".join(ld(2, s.encode()) for s in spans)
        rs += ld(2, ss)
    return ld(1, rs)
