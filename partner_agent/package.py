"""From a checked extract to a sealed package file: minimise, pseudonymise, Parquet, seal."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from keys.identity import Identity, PublicIdentity
from keys.package import Column, Manifest, seal
from partner_agent.extract import Extract
from partner_agent.minimise import Minimised, minimise
from partner_agent.validate import Problem, Validated, validate
from schemas.files import atomic_output
from schemas.model import SourceSchema


@dataclass(frozen=True)
class Sealed:
    """The outcome of `seal_extract`: the problems, and the package when it was written."""

    validated: Validated
    blocking: list[Problem]
    minimised: Minimised | None = None
    manifest: Manifest | None = None
    path: Path | None = None


def blocking_problems(
    validated: Validated, schema: SourceSchema, drop_invalid: bool
) -> list[Problem]:
    """Errors that stop sealing; with `drop_invalid`, identifier errors do not (rows go)."""
    identifiers = {c.name for c in schema.columns if c.identifier}
    return [
        p
        for p in validated.errors
        if not (drop_invalid and p.column in identifiers and p.rule != "missing_column")
    ]


def parquet_bytes(table: pa.Table) -> bytes:
    """The payload: Parquet with zstd compression."""
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def seal_extract(
    extract: Extract,
    schema: SourceSchema,
    *,
    reference_date: dt.date,
    link_key: bytes,
    link_key_id: str,
    signer: Identity,
    broker: PublicIdentity,
    sequence: int,
    now: dt.datetime,
    out_path: Path,
    drop_invalid: bool = False,
    step: Callable[[str], None] = lambda _: None,
) -> Sealed:
    """Validate, minimise, pseudonymise and seal `extract` into `out_path` (atomically)."""
    step("validating")
    validated = validate(extract.table, schema, extract.first_line)
    blocking = blocking_problems(validated, schema, drop_invalid)
    if blocking:
        return Sealed(validated, blocking)
    step("minimising and pseudonymising")
    minimised = minimise(validated, extract.table, schema, reference_date, link_key, drop_invalid)
    step("writing Parquet")
    payload = parquet_bytes(minimised.table)
    manifest = Manifest(
        schema_id=schema.id,
        schema_version=schema.version,
        partner=signer.public.name,
        package_id=str(uuid.uuid4()),
        sequence=sequence,
        reference_date=reference_date.isoformat(),
        created_at=now.isoformat(timespec="seconds"),
        row_count=minimised.table.num_rows,
        columns=tuple(Column(name=f.name, type=_type_name(f.type)) for f in minimised.table.schema),
        payload_bytes=len(payload),
        signer_key_id=signer.key_id,
        recipient_key_id=broker.key_id,
        link_key_id=link_key_id,
        details={**minimised.details(), "extract_format": extract.format},
    )
    step("sealing")
    with atomic_output(out_path) as out:
        seal(io.BytesIO(payload), manifest, signer, broker, out)
    return Sealed(validated, [], minimised, manifest, out_path)


def _type_name(t: pa.DataType) -> str:
    return "pseudonym (32 bytes)" if t == pa.binary(32) else str(t)
