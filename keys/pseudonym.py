"""Keyed pseudonyms of a whole column: HMAC-SHA256(key, prefix ‖ value), each distinct value once.

Stage 1 at the partner: P1 = HMAC(link key, domain ‖ identifier). Stage 2 at the broker:
P2 = HMAC(broker pseudonym key, P1). Both go through here.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from keys import crypto

PSEUDONYM_TYPE = pa.binary(32)


def hmac_column(
    values: pa.Array | pa.ChunkedArray, key: bytes, prefix: bytes | pa.Array = b""
) -> pa.Array:
    """Pseudonyms of `values` (string or binary; nulls stay null).

    `prefix` is one domain for every value, or an array of domains aligned with the distinct
    values in order of first appearance (see `distinct`).
    """
    encoded = distinct(values)
    uniques = encoded.dictionary.cast(pa.binary())
    messages = pc.binary_join_element_wise(
        pa.scalar(prefix, pa.binary()) if isinstance(prefix, bytes) else prefix, uniques, b""
    ).to_pylist()
    digests = pa.array(crypto.hmac_sha256_many(key, messages), type=PSEUDONYM_TYPE)
    return digests.take(encoded.indices)


def distinct(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """Dictionary encoding: distinct values in order of first appearance, and indices."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values)
