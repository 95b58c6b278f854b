"""A gzip body joined from pieces compressed once and values that change per request
(RFC 1951 and 1952), for the shared pages (page_cache.py).

The registration form is 200 KiB with a 100-byte CSRF token and serving time in it. Compressing
the whole page per request would cost more than serving it; compressing the copy once is not
possible as the token differs per visitor. So each literal piece of the copy is compressed once,
ending in a full flush (byte-aligned, referring to nothing before it), and each request's values
go between them as stored (uncompressed) blocks: any deflate reader joins them into one stream.
Only the checksum is computed per request.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

# ID1 ID2, deflate, no flags, no modification time, no extra flags, unknown OS.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# The last block: final, fixed Huffman codes, only the end-of-block code.
_LAST_BLOCK = b"\x03\x00"
_STORED_MAX = 0xFFFF


def deflated(piece: bytes) -> bytes:
    """`piece` as raw deflate blocks that end byte-aligned and refer to nothing before them,
    so that pieces compressed apart can be joined in any order."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)


def stored(value: bytes) -> bytes:
    """`value` as stored deflate blocks: nothing to compress for a per-request value."""
    blocks = []
    for start in range(0, len(value), _STORED_MAX):
        chunk = value[start : start + _STORED_MAX]
        blocks.append(b"\x00" + struct.pack("<HH", len(chunk), _STORED_MAX ^ len(chunk)) + chunk)
    return b"".join(blocks) if blocks else b"\x00\x00\x00\xff\xff"


def joined(pieces: Iterable[tuple[bytes, bytes]]) -> bytes:
    """One gzip member from (plain, deflated or stored) pairs, in order."""
    crc, size, blocks = 0, 0, []
    for plain, packed in pieces:
        crc = zlib.crc32(plain, crc)
        size += len(plain)
        blocks.append(packed)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return _HEADER + b"".join(blocks) + _LAST_BLOCK + trailer
