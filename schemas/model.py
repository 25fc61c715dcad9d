"""The shape of a partner-source schema: columns with a kind, as data.

One `SourceSchema` is the contract for one partner extract. From it we derive the pydantic record
model (one row), the JSON Schema that is committed under `schemas/json/`, the column-wise validator
of the partner agent and the minimisation rules. Identifier kinds are what the agent pseudonymises.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from schemas.checkdigits import is_bsn, is_onderwijsnummer

Kind = Literal[
    "bsn",  # burgerservicenummer: identifier, elfproef
    "leerling_id",  # BSN or onderwijsnummer: identifier, either check rule
    "huishouden_id",  # household number in the BRP extract: identifier, opaque
    "birth_date",  # becomes age in months at the reference date
    "date",  # becomes the month (YYYY-MM)
    "category",  # one of `values`
    "boolean",
    "integer",
    "number",
    "buurtcode",  # CBS code BU + 8 digits
    "brin",  # school: BRIN (2 digits, 2 letters) + 2-digit location
]

IDENTIFIER_KINDS: frozenset[str] = frozenset({"bsn", "leerling_id", "huishouden_id"})
PATTERNS = {
    "buurtcode": re.compile(r"BU[0-9]{8}"),
    "brin": re.compile(r"[0-9]{2}[A-Z]{2}[0-9]{2}"),
    "huishouden_id": re.compile(r"[0-9A-Za-z-]{1,32}"),
}
TRUE_WORDS = frozenset({"ja", "j", "1", "true", "waar", "y", "yes"})
FALSE_WORDS = frozenset({"nee", "n", "0", "false", "onwaar", "no"})


class Column(BaseModel):
    """One column of a partner extract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    description: str
    required: bool = True
    values: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def identifier(self) -> bool:
        """True when the column holds a person or household identifier."""
        return self.kind in IDENTIFIER_KINDS

    @model_validator(mode="after")
    def _values_only_for_categories(self) -> Column:
        if (self.kind == "category") != (self.values is not None):
            raise ValueError("a category column needs `values`, and only a category column")
        if (self.minimum is not None or self.maximum is not None) and self.kind not in {
            "integer",
            "number",
        }:
            raise ValueError("minimum/maximum apply to integer and number columns only")
        return self


class SourceSchema(BaseModel):
    """A versioned schema for one partner source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    partner: str
    title: str
    description: str
    columns: tuple[Column, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> SourceSchema:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"schema {self.id}: duplicate column names")
        if not any(c.identifier for c in self.columns):
            raise ValueError(f"schema {self.id}: no identifier column to link on")
        return self

    @property
    def ref(self) -> str:
        """`id@vN`, how packages and logs name the schema."""
        return f"{self.id}@v{self.version}"

    def column(self, name: str) -> Column:
        """The column called `name`."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def record_model(self) -> type[BaseModel]:
        """The pydantic model of one record of this source (frozen, extra fields forbidden)."""
        return _record_model(self)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of one record, with the schema id, version and identifier marks."""
        schema = self.record_model().model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:kinderindex:schema:{self.id}:v{self.version}"
        schema["x-schema-id"] = self.id
        schema["x-schema-version"] = self.version
        schema["x-partner"] = self.partner
        return schema


def _check(predicate: Any, what: str) -> Any:
    def check(value: str) -> str:
        if not predicate(value):
            raise ValueError(f"not a valid {what}")  # never echo the value: it may be a BSN
        return value

    return AfterValidator(check)


def _field_type(col: Column) -> Any:
    extra: dict[str, Any] = {"x-kind": col.kind, "x-identifier": col.identifier}
    if col.kind == "bsn":
        base: Any = Annotated[str, _check(is_bsn, "BSN (elfproef)")]
        extra["pattern"] = "^[0-9]{9}$"
    elif col.kind == "leerling_id":
        base = Annotated[
            str,
            _check(lambda v: is_bsn(v) or is_onderwijsnummer(v), "BSN or onderwijsnummer"),
        ]
        extra["pattern"] = "^[0-9]{9}$"
    elif col.kind in PATTERNS:
        base = Annotated[str, Field(pattern=f"^{PATTERNS[col.kind].pattern}$")]
    elif col.kind in {"birth_date", "date"}:
        base = dt.date
    elif col.kind == "category":
        assert col.values is not None
        base = Literal[col.values]
    elif col.kind == "boolean":
        base = bool
    elif col.kind == "integer":
        base = Annotated[int, Field(ge=_int(col.minimum), le=_int(col.maximum))]
    else:
        base = Annotated[float, Field(ge=col.minimum, le=col.maximum)]
    if not col.required:
        base = base | None
    default = ... if col.required else None
    return (base, Field(default, description=col.description, json_schema_extra=extra))


def _int(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


@cache
def _record_model(schema: SourceSchema) -> type[BaseModel]:
    fields = {c.name: _field_type(c) for c in schema.columns}
    model = create_model(
        f"{schema.id.title().replace('_', '')}RecordV{schema.version}",
        __config__=ConfigDict(frozen=True, extra="forbid", title=schema.title),
        __doc__=schema.description,
        **fields,
    )
    return model
