"""Write the package-format test vectors (run once; the files are committed).

    python tests/vectors/make_package_vectors.py

The keys come from fixed seeds and the data key is fixed; the HPKE-wrapped data key is random by
construction, so it is generated once and stored: with it, sealing is byte-for-byte reproducible
(Ed25519 signatures are deterministic).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from keys import crypto
from keys.encoding import canonical_json
from keys.identity import Identity
from keys.package import Column, Manifest, data_key_info, seal

HERE = Path(__file__).parent
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def identities() -> tuple[Identity, Identity]:
    """The partner and broker identities of the vectors."""
    partner = Identity.from_seeds("partner", "duo", NOW, bytes(range(32)), bytes(range(32, 64)))
    broker = Identity.from_seeds(
        "broker", "zwolle", NOW, bytes(range(64, 96)), bytes(range(96, 128))
    )
    return partner, broker


def payload() -> bytes:
    """Two full chunks and a short third: exercises counters and the last-chunk flag."""
    return bytes((i * 7 + 3) % 251 for i in range(2 * 65536 + 1000))


def manifest(partner: Identity, broker: Identity, data: bytes) -> Manifest:
    """The vectors' manifest."""
    return Manifest(
        schema_id="duo",
        schema_version=1,
        partner="duo",
        package_id="00000000-vector-1",
        sequence=1,
        reference_date="2024-01-01",
        created_at=NOW.isoformat(),
        row_count=0,
        columns=(Column(name="leerling_id", type="binary"),),
        payload_bytes=len(data),
        signer_key_id=partner.key_id,
        recipient_key_id=broker.key_id,
    )


def main() -> None:
    """Write vector.json and package.bin."""
    partner, broker = identities()
    data = payload()
    m = manifest(partner, broker, data)
    data_key = bytes([0x42] * 32)
    wrapped = crypto.hpke_wrap(
        crypto.kem_keypair(bytes(range(96, 128)))[1],
        data_key,
        data_key_info(canonical_json(m.model_dump())),
    )
    out = io.BytesIO()
    seal(io.BytesIO(data), m, partner, broker.public, out, data_key=data_key, wrapped_key=wrapped)
    (HERE / "package-v1.bin").write_bytes(out.getvalue())
    vector = {
        "partner_signing_seed": bytes(range(32)).hex(),
        "partner_kem_seed": bytes(range(32, 64)).hex(),
        "broker_signing_seed": bytes(range(64, 96)).hex(),
        "broker_kem_seed": bytes(range(96, 128)).hex(),
        "data_key": data_key.hex(),
        "wrapped_key": wrapped.hex(),
        "payload": "bytes((i * 7 + 3) % 251 for i in range(2 * 65536 + 1000))",
        "payload_sha256": crypto.sha256(data).hex(),
        "package_sha256": crypto.sha256(out.getvalue()).hex(),
        "package_bytes": len(out.getvalue()),
    }
    (HERE / "package-v1.json").write_text(json.dumps(vector, indent=2) + "\n")


if __name__ == "__main__":
    main()
