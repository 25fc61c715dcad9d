"""The contract between partners and broker: source schemas, reference geography, synthetic data."""

from schemas.model import Column, SourceSchema
from schemas.sources import SCHEMAS


class UnknownSchema(KeyError):
    """No schema with that id (or version) is known."""


def get_schema(schema_id: str, version: int | None = None) -> SourceSchema:
    """The schema `schema_id` (optionally `id@vN`), at `version` or the newest."""
    if "@v" in schema_id:
        schema_id, _, v = schema_id.partition("@v")
        version = int(v)
    schema = SCHEMAS.get(schema_id)
    if schema is None or (version is not None and schema.version != version):
        known = ", ".join(s.ref for s in SCHEMAS.values())
        raise UnknownSchema(f"unknown schema {schema_id!r} (known: {known})")
    return schema


__all__ = ["SCHEMAS", "Column", "SourceSchema", "UnknownSchema", "get_schema"]
