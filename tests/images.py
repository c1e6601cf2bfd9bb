"""Tiny valid PNG files, the kind devices and customers upload as signature images."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 1, height: int = 1, shade: int = 0) -> bytes:
    """A grey ``width`` x ``height`` PNG; different sizes or shades give different files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = (b"\x00" + bytes([shade % 256]) * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
