"""How validation results are shown: capped on screen, complete in the report file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keys.package import Manifest
from partner_agent.extract import Extract
from partner_agent.validate import Validated

ROWS_ON_SCREEN = 10


def rows_text(rows: tuple[int, ...], word: str) -> str:
    """`line 3, 7, 9 … (+12 more)`: at most ROWS_ON_SCREEN row numbers."""
    shown = ", ".join(str(r) for r in rows[:ROWS_ON_SCREEN])
    more = f" … (+{len(rows) - ROWS_ON_SCREEN} more)" if len(rows) > ROWS_ON_SCREEN else ""
    return f"{word}{'s' if len(rows) > 1 else ''} {shown}{more}"


def summary(extract: Extract, schema_ref: str, result: Validated) -> dict[str, Any]:
    """The machine-readable validation report (every row of every problem)."""
    return {
        "file": str(extract.path),
        "format": extract.format,
        "dialect": extract.dialect.describe() if extract.dialect else None,
        "schema": schema_ref,
        "rows": len(extract.table),
        "columns": list(map(str, extract.table.columns)),
        "valid": not result.errors,
        "problems": [p.model_dump() for p in result.problems],
    }


def render(extract: Extract, schema_ref: str, result: Validated) -> str:
    """Human-readable lines; row numbers as the user sees them in the file."""
    word = "line" if extract.format == "csv" else "row"
    head = f"{extract.path}: {len(extract.table):,} rows, {extract.format}"
    if extract.dialect:
        head += f" ({extract.dialect.describe()})"
    lines = [f"{head}; schema {schema_ref}"]
    for p in result.problems:
        where = f"{extract.path}: "
        if p.rows:
            where += rows_text(p.rows, word) + ": "
        col = f"column {p.column}: " if p.column else ""
        n = (
            f" [{p.rule}, {p.count:,} row{'s' if p.count != 1 else ''}]"
            if p.rows
            else f" [{p.rule}]"
        )
        lines.append(f"  {p.severity}: {where}{col}{p.message}{n}")
    errors = len(result.errors)
    lines.append(
        f"{'INVALID' if errors else 'OK'}: {errors} error rule(s), "
        f"{len(result.problems) - errors} warning(s)"
    )
    return "\n".join(lines)


def report_json(data: dict[str, Any]) -> bytes:
    """The report file's bytes."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_manifest(manifest: Manifest, path: Path) -> str:
    """What leaves the building, for the data officer."""
    d = manifest.details
    lines = [
        f"package {path}",
        f"  partner {manifest.partner}, schema {manifest.schema_id}@v{manifest.schema_version}, "
        f"sequence {manifest.sequence}, reference date {manifest.reference_date}",
        f"  package id {manifest.package_id}, created {manifest.created_at}",
        f"  {manifest.row_count:,} rows, {manifest.payload_bytes:,} bytes of "
        f"{manifest.payload_format} (encrypted), columns:",
        *(f"    {c.name:<28} {c.type}" for c in manifest.columns),
    ]
    if d.get("dropped_columns"):
        lines.append("  columns dropped (never left): " + ", ".join(d["dropped_columns"]))
    if d.get("rows_dropped_invalid_identifier"):
        lines.append(
            f"  rows dropped for an invalid identifier: {d['rows_dropped_invalid_identifier']:,}"
        )
    for col, n in (d.get("optional_identifiers_blanked") or {}).items():
        lines.append(f"  {col}: {n:,} invalid values left empty")
    lines.append(
        f"  signed by {manifest.signer_key_id}, sealed for broker "
        f"{manifest.recipient_key_id}, link key {manifest.link_key_id}"
    )
    return "\n".join(lines)
