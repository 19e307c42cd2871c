"""Vectorised helpers: stateless hashing, fixed-width text buffers and timestamp/money formatting.

Formatting millions of timestamps through `datetime` or `strftime` costs more than the whole
simulation, so timestamps are written digit by digit into a uint8 matrix (one row per value)
and handed to pyarrow as a string array without a Python object per value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a well-mixed 64-bit hash of each integer."""
    x = np.asarray(x).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + _M1
        x = (x ^ (x >> np.uint64(30))) * _M2
        x = (x ^ (x >> np.uint64(27))) * _M3
        return x ^ (x >> np.uint64(31))


def hash_u01(*keys) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on the keys (broadcast), not on any RNG state."""
    h = np.uint64(0x1234567)
    with np.errstate(over="ignore"):
        for key in keys:
            h = mix64(np.asarray(key).astype(np.uint64) ^ (h * np.uint64(31)))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def hash_u64(*keys) -> np.ndarray:
    h = np.uint64(0x7654321)
    with np.errstate(over="ignore"):
        for key in keys:
            h = mix64(np.asarray(key).astype(np.uint64) ^ (h * np.uint64(31)))
    return h


def permute(x: np.ndarray, digits: int, salt: int) -> np.ndarray:
    """A bijection of [0, 10**digits) (digits even): unique ids that do not look sequential.

    A four-round Feistel network on the two halves of the decimal number.
    """
    half = 10 ** (digits // 2)
    x = np.asarray(x, dtype=np.int64)
    left, right = x // half, x % half
    for round_ in range(4):
        f = (hash_u64(right, salt, round_) % np.uint64(half)).astype(np.int64)
        left, right = right, (left + f) % half
    return left * half + right


# ---------------------------------------------------------------- fixed-width buffers


def put_digits(buf: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    v = np.asarray(values, dtype=np.int64)
    for i in range(width - 1, -1, -1):
        buf[:, col + i] = 48 + (v % 10)
        v = v // 10


def put_text(buf: np.ndarray, col: int, text: str) -> None:
    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    buf[:, col : col + len(raw)] = raw


def buf_to_arrow(buf: np.ndarray) -> pa.Array:
    n, w = buf.shape
    offsets = np.arange(0, n * w + 1, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)))


def buf_to_list(buf: np.ndarray) -> list[str]:
    n, w = buf.shape
    if n == 0:
        return []
    text = np.ascontiguousarray(buf).tobytes().decode("ascii")
    return [text[i : i + w] for i in range(0, n * w, w)]


def fixed_ids(prefix: str, chunk: int, seq: np.ndarray, digits: int = 8) -> np.ndarray:
    """'<prefix><chunk:05d><seq:0{digits}d>' as a uint8 buffer."""
    n = len(seq)
    p = len(prefix)
    buf = np.empty((n, p + 5 + digits), dtype=np.uint8)
    if p:
        put_text(buf, 0, prefix)
    put_digits(buf, p, np.full(n, chunk), 5)
    put_digits(buf, p + 5, seq, digits)
    return buf


# ---------------------------------------------------------------- dates and timestamps


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) from days since 1970-01-01 (Howard Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = np.where(m <= 2, y + 1, y)
    return y, m, d


def date_buf(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' for days since the Unix epoch."""
    y, m, d = civil_from_days(days)
    buf = np.empty((len(y), 10), dtype=np.uint8)
    put_digits(buf, 0, y, 4)
    put_digits(buf, 5, m, 2)
    put_digits(buf, 8, d, 2)
    buf[:, 4] = buf[:, 7] = ord("-")
    return buf


def ts_buf(unix: np.ndarray, style: str = "Z", offset_min: np.ndarray | None = None, millis: np.ndarray | None = None) -> np.ndarray:
    """ISO 8601 timestamps from Unix seconds.

    style: "Z" -> 2025-03-04T10:22:01Z; "msZ" -> 2025-03-04T10:22:01.000Z;
    "utc" -> 2025-03-04T10:22:01+00:00; "offset" -> local time with its +HH:MM offset.
    """
    unix = np.asarray(unix, dtype=np.int64)
    n = len(unix)
    local = unix if style != "offset" else unix + np.asarray(offset_min, dtype=np.int64) * 60
    days = np.floor_divide(local, 86400)
    secs = local - days * 86400
    width = {"Z": 20, "msZ": 24, "utc": 25, "offset": 25}[style]
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, :10] = date_buf(days)
    buf[:, 10] = ord("T")
    put_digits(buf, 11, secs // 3600, 2)
    buf[:, 13] = ord(":")
    put_digits(buf, 14, (secs // 60) % 60, 2)
    buf[:, 16] = ord(":")
    put_digits(buf, 17, secs % 60, 2)
    if style == "Z":
        buf[:, 19] = ord("Z")
    elif style == "msZ":
        buf[:, 19] = ord(".")
        put_digits(buf, 20, np.zeros(n, np.int64) if millis is None else millis, 3)
        buf[:, 23] = ord("Z")
    elif style == "utc":
        put_text(buf, 19, "+00:00")
    else:
        off = np.asarray(offset_min, dtype=np.int64)
        buf[:, 19] = np.where(off < 0, ord("-"), ord("+"))
        a = np.abs(off)
        put_digits(buf, 20, a // 60, 2)
        buf[:, 22] = ord(":")
        put_digits(buf, 23, a % 60, 2)
    return buf


def ts_arrow(unix: np.ndarray, valid: np.ndarray | None = None, **kw) -> pa.Array:
    """Timestamps as an arrow string array; rows where `valid` is False become empty strings."""
    arr = buf_to_arrow(ts_buf(unix, **kw))
    if valid is not None and not np.all(valid):
        arr = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), arr, pa.scalar("", pa.string()))
    return arr


# ---------------------------------------------------------------- numbers


def money_arrow(minor: np.ndarray, decimals: np.ndarray | int = 2) -> pa.Array:
    """Amounts from integer minor units: 1234 -> '12.34'; zero-decimal currencies -> '1234'."""
    minor = np.asarray(minor, dtype=np.int64)
    if np.isscalar(decimals):
        decimals = np.full(len(minor), decimals)
    neg = minor < 0
    a = np.abs(minor)
    two = decimals == 2
    whole = np.where(two, a // 100, a)
    frac = a % 100
    whole_s = pc.cast(pa.array(whole), pa.string())
    frac_s = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), 2, "0")
    out = pc.if_else(pa.array(two), pc.binary_join_element_wise(whole_s, frac_s, "."), whole_s)
    if neg.any():
        out = pc.if_else(pa.array(neg), pc.binary_join_element_wise("-", out, ""), out)
    return out


def money_list(minor: np.ndarray, decimals: np.ndarray | int = 2) -> list[str]:
    return money_arrow(minor, decimals).to_pylist()


def int_arrow(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
