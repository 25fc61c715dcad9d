"""Canonical JSON and base64: how signed and hashed structures are turned into bytes."""

from __future__ import annotations

import base64
import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same object always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64e(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Decode standard base64, strictly."""
    return base64.b64decode(text.encode("ascii"), validate=True)
