"""The webhook's signature: HMAC-SHA256 over "<timestamp>.<body>" with the integration's secret.

The timestamp is signed too and must be within TOLERANCE of our clock, so a captured request
cannot be replayed later (and a replay within the window stores nothing new anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Rapport-Timestamp"
SIGNATURE_HEADER = "X-Rapport-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value a sender puts in X-Rapport-Signature: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """The headers of a request signed now: what a PBX (or the demo's replay) sends with the body."""
    timestamp = str(int(time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def signature_problem(secret: str, timestamp: str | None, signed: str | None, body: bytes) -> str | None:
    """Why the request is not signed by this secret, or None when it is."""
    if not timestamp or not signed:
        return f"Sign the body: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required."
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return f"{TIMESTAMP_HEADER} must be a Unix time in seconds."
    if age > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} seconds away from our clock."
    if not hmac.compare_digest(signature(secret, timestamp, body), signed.strip()):
        return "The signature does not match the body and the integration's secret."
    return None
