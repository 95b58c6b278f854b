"""Private links, API tokens and short codes, and the check-in code's QR symbol.

Private links are HMAC-SHA256(SECRET_KEY, purpose + nonce), the nonce being 256 random bits
from `secrets`. The database stores the nonce and the SHA-256 of the link token, never the
token: a copy of the database without the SECRET_KEY opens no attendee's page, while the
mail worker can still put the link in a reminder sent weeks later. Rotating the nonce
revokes the link. API tokens are plain random tokens shown once; only their hash is kept.
"""

import base64
import functools
import hashlib
import hmac
import io
import secrets

import segno
from flask import current_app

from ..models import Attendee

# Crockford's base32 without I, L, O, U: nothing to misread when spoken at the door.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_SIZE = len(CODE_ALPHABET)  # 32, which divides 256: see new_code
# Quartile: a quarter of the symbol may be smudged, folded or glared on a phone screen and
# it still reads; a 10-letter code stays a small version-1/2 symbol.
QR_ERROR_LEVEL = "q"
# The four-module quiet zone the QR standard asks for: scanners find the symbol by it.
QR_QUIET_ZONE = 4


def new_nonce() -> str:
    return secrets.token_hex(32)


def new_api_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_token(purpose: str, nonce: str, secret_key: str | None = None) -> str:
    key = (secret_key or current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.digest(key, f"{purpose}:{nonce}".encode(), "sha256")  # one C call
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def tokens_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any lookup, so junk never reaches the database."""
    return 20 <= len(value) <= 100 and all(c.isalnum() or c in "-_" for c in value)


def new_code(length: int) -> str:
    # 32 letters divide 256 evenly: each random byte picks one without bias.
    return "".join(CODE_ALPHABET[byte % _CODE_SIZE] for byte in secrets.token_bytes(length))


# A check-in code never changes, and its symbol is costly to draw: segno scores all eight
# mask patterns (about 3 ms) and the PNG is deflated (about 2 ms), more than a registration's
# SQL. Each process keeps the last codes' symbols and page images (a few KiB each), so the
# attendee's page, ticket and reloads draw them once (docs/PERFORMANCE.md, eighth round).
QR_CODES_HELD = 2048


@functools.lru_cache(maxsize=QR_CODES_HELD)
def checkin_qr(code: str) -> segno.QRCode:
    """The check-in code as a regular QR code, never a Micro QR.

    segno.make() picks Micro QR by itself for content this short, and the phone cameras,
    Chrome's BarcodeDetector, jsQR and ZXing's usual settings do not read Micro QR at all;
    make_qr always draws a full QR code. Callers only read the symbol, which is shared.
    """
    return segno.make_qr(code, error=QR_ERROR_LEVEL)


def checkin_qr_png(code: str, scale: int = 6) -> bytes:
    """PNG of the check-in QR code with its quiet zone, `scale` pixels per module."""
    buffer = io.BytesIO()
    checkin_qr(code).save(buffer, kind="png", scale=scale, border=QR_QUIET_ZONE)
    return buffer.getvalue()


@functools.lru_cache(maxsize=QR_CODES_HELD)
def checkin_qr_data_uri(code: str, scale: int = 6) -> str:
    """The same PNG as a data: URI, for an <img> on a page (the CSP allows data: images)."""
    return checkin_qr(code).png_data_uri(scale=scale, border=QR_QUIET_ZONE)


def ticket_qr_data_uri(attendee: Attendee, scale: int = 6) -> str | None:
    """The attendee's QR code for a page, or None once their registration is cancelled."""
    if attendee.status != "active":
        return None
    return checkin_qr_data_uri(attendee.checkin_code, scale=scale)


def new_token_columns() -> dict:
    """Fresh nonces for the private links, and the hashes they are looked up by."""
    token_nonce, feed_nonce = new_nonce(), new_nonce()
    return {
        "token_nonce": token_nonce,
        "feed_nonce": feed_nonce,
        "token_hash": hash_token(derive_token("manage", token_nonce)),
        "feed_token_hash": hash_token(derive_token("feed", feed_nonce)),
    }


def issue_tokens(attendee: Attendee) -> None:
    """Give the attendee fresh private links; the old ones stop working."""
    for column, value in new_token_columns().items():
        setattr(attendee, column, value)


def manage_token(attendee: Attendee) -> str:
    return derive_token("manage", attendee.token_nonce)


def feed_token(attendee: Attendee) -> str:
    return derive_token("feed", attendee.feed_nonce)
