"""The shared pages' gzip bodies (eventapp/gzip_pieces.py): pieces compressed apart and
per-request values joined into one gzip member, read back by Python's zlib and by GNU gzip
(its own inflate, not zlib's)."""

from __future__ import annotations

import gzip
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from eventapp import gzip_pieces


def _joined(pieces: list[bytes]) -> bytes:
    """Even positions compressed (as a copy's literal text), odd ones stored (the values)."""
    return gzip_pieces.joined(
        (piece, gzip_pieces.deflated(piece) if index % 2 == 0 else gzip_pieces.stored(piece))
        for index, piece in enumerate(pieces)
    )


def _gunzip(body: bytes) -> bytes:
    return subprocess.run(
        ["gzip", "--decompress", "--stdout"], input=body, capture_output=True, check=True
    ).stdout


def test_a_form_with_its_token_between_compressed_pieces_reads_back_whole():
    head = b'<form method="post"><input name="csrf_token" type="hidden" value="'
    tail = b'"><label>Workshop</label>' * 4000  # a long page: compressed to a fraction
    pieces = [head, b"IjVkM2Y0ZTYx.ZxyA.abc", tail]
    body = _joined(pieces)
    assert gzip.decompress(body) == b"".join(pieces)
    assert _gunzip(body) == b"".join(pieces)
    assert len(body) < len(b"".join(pieces)) / 10


def test_an_empty_value_and_a_value_longer_than_one_stored_block():
    pieces = [b"", b"", b"text", bytes(range(256)) * 300, b"end"]  # 76,800 bytes: two blocks
    body = _joined(pieces)
    assert gzip.decompress(body) == b"".join(pieces)
    assert _gunzip(body) == b"".join(pieces)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=7))
def test_any_pieces_read_back_as_their_join(pieces):
    assert gzip.decompress(_joined(pieces)) == b"".join(pieces)
