"""Link the partners' tables in DuckDB into one row per child at the reference date.

SQL comes from small pure `*_sql()` functions; `Linker.run` is the one place that executes it and
wraps errors with the step and table names (never row values). DuckDB runs in memory with
spilling to disk switched off, so no linked or decrypted data is ever written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

SOURCES = ("brp", "ggd_jgz", "ggd_prenataal", "duo", "jeugdhulp", "inkomen")
# The key each source links on, and what it identifies.
KEYS = {
    "brp": "bsn_kind",
    "ggd_jgz": "bsn_kind",
    "ggd_prenataal": "bsn_moeder",
    "duo": "leerling_id",
    "jeugdhulp": "bsn_kind",
    "inkomen": "bsn_persoon",
}
RESOLUTION = {
    "brp": "one row per child kept (the first in a fixed order)",
    "ggd_jgz": "the latest contact kept",
    "ggd_prenataal": "the earliest expected due date kept",
    "duo": "the highest groep kept",
    "jeugdhulp": "all trajectories combined per child (any active trajectory counts)",
    "inkomen": "combined per person (a flag counts when any row has it)",
}


class LinkError(Exception):
    """A linkage step failed; says which step and table, never which values."""


def dedup_sql(source: str, columns: list[str]) -> str:
    """One row per key of a child-level source, by the rule in RESOLUTION.

    Ties are broken on every other column, so that the row kept never depends on the order in
    which rows arrive: the same packages always give the same release.
    """
    key = KEYS[source]
    order = {
        "brp": "leeftijd_maanden, buurtcode",
        "ggd_jgz": "contactdatum DESC",
        "ggd_prenataal": "leeftijd_maanden DESC",
        "duo": "groep DESC, schoolsoort",
    }[source]
    tiebreak = ", ".join(f'"{c}" NULLS LAST' for c in columns if c != key)
    return (
        f"CREATE TABLE {source}_d AS SELECT * FROM {source} WHERE {key} IS NOT NULL "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}, {tiebreak}) = 1"
    )


def population_sql() -> str:
    """Children 0–11 living in the geography per the BRP, and unborn children via the mother."""
    return """
    CREATE TABLE kinderen AS
    SELECT b.bsn_kind AS kind, b.bsn_ouder1 AS ouder1, b.bsn_ouder2 AS ouder2, b.buurtcode,
           b.leeftijd_maanden, FALSE AS ongeboren,
           b.aantal_ouders_huishouden = 1 AS eenoudergezin,
           b.verhuizingen_24m >= 2 AS verhuisd_2plus,
           NULL::BOOLEAN AS roken_zwangerschap
    FROM brp_d b JOIN geo USING (buurtcode)
    WHERE b.leeftijd_maanden BETWEEN 0 AND 143
    UNION ALL
    SELECT NULL, p.bsn_moeder, NULL, p.buurtcode, p.leeftijd_maanden, TRUE, NULL, NULL,
           p.roken_zwangerschap
    FROM ggd_prenataal_d p JOIN geo USING (buurtcode)
    WHERE p.leeftijd_maanden BETWEEN -9 AND -1
    """


def parents_sql() -> str:
    """Income, benefits and education per person, combined over duplicate rows."""
    return """
    CREATE TABLE ouders AS
    SELECT bsn_persoon,
           bool_or(inkomen_onder_120_sm) AS laag_inkomen, bool_or(bijstand) AS bijstand,
           bool_or(schuldsanering) AS schuldsanering,
           max(CASE opleidingsniveau WHEN 'LAAG' THEN 1 WHEN 'MIDDEN' THEN 2
                                     WHEN 'HOOG' THEN 3 END) AS opleiding
    FROM inkomen WHERE bsn_persoon IS NOT NULL GROUP BY bsn_persoon
    """


def youth_care_sql(reference_date: dt.date) -> str:
    """Per child: any trajectory active in the year before the reference date, by type."""
    ref = reference_date.isoformat()
    return f"""
    CREATE TABLE jeugdhulp_k AS
    SELECT bsn_kind,
           bool_or(zorgvorm IN ('JEUGDHULP_ZONDER_VERBLIJF', 'JEUGDHULP_MET_VERBLIJF',
                                'JEUGD_GGZ')) AS jeugdhulp,
           bool_or(zorgvorm = 'JEUGD_GGZ') AS jeugd_ggz,
           bool_or(zorgvorm = 'JEUGDHULP_MET_VERBLIJF') AS jeugdhulp_verblijf,
           bool_or(zorgvorm = 'JEUGDBESCHERMING') AS jeugdbescherming
    FROM jeugdhulp
    WHERE bsn_kind IS NOT NULL AND begindatum <= DATE '{ref}'
      AND (einddatum IS NULL OR einddatum >= DATE '{ref}' - INTERVAL 1 YEAR)
    GROUP BY bsn_kind
    """


LINKED_COLUMNS = (
    "buurtcode", "leeftijd_maanden", "ongeboren", "eenoudergezin", "verhuisd_2plus",
    "inkomen_bekend", "laag_inkomen", "bijstand", "schuldsanering", "opleiding_bekend",
    "laag_opgeleid", "jgz_bekend", "taalsignaal", "overgewicht", "onvolledig_gevaccineerd",
    "vve_indicatie", "meeroken", "geboortegewicht_bekend", "laag_geboortegewicht",
    "vroeggeboorte", "roken_zwangerschap", "duo_bekend", "groep", "speciaal_onderwijs",
    "advies_bekend", "havo_plus", "lezen_bekend", "lezen_onder_1f", "achterstandsgewicht",
    "jeugdhulp_bekend", "jeugdhulp", "jeugd_ggz", "jeugdhulp_verblijf", "jeugdbescherming",
)  # fmt: skip


def linked_sql() -> str:
    """One row per child: every indicator input, without any pseudonym."""
    return """
    CREATE TABLE gekoppeld AS
    SELECT k.buurtcode, k.leeftijd_maanden, k.ongeboren, k.eenoudergezin, k.verhuisd_2plus,
           (o1.bsn_persoon IS NOT NULL OR o2.bsn_persoon IS NOT NULL) AS inkomen_bekend,
           coalesce(o1.laag_inkomen, FALSE) OR coalesce(o2.laag_inkomen, FALSE) AS laag_inkomen,
           coalesce(o1.bijstand, FALSE) OR coalesce(o2.bijstand, FALSE) AS bijstand,
           coalesce(o1.schuldsanering, FALSE) OR coalesce(o2.schuldsanering, FALSE)
               AS schuldsanering,
           greatest(o1.opleiding, o2.opleiding) IS NOT NULL AS opleiding_bekend,
           greatest(o1.opleiding, o2.opleiding) = 1 AS laag_opgeleid,
           g.bsn_kind IS NOT NULL AS jgz_bekend,
           g.signaal_taalontwikkeling AS taalsignaal,
           g.gewichtsklasse IN ('OVERGEWICHT', 'OBESITAS') AS overgewicht,
           g.vaccinatiestatus <> 'VOLLEDIG' AS onvolledig_gevaccineerd,
           g.vve_indicatie, g.meeroken,
           g.geboortegewicht_gram IS NOT NULL AS geboortegewicht_bekend,
           g.geboortegewicht_gram < 2500 AS laag_geboortegewicht,
           g.zwangerschapsduur_weken < 37 AS vroeggeboorte,
           k.roken_zwangerschap,
           d.leerling_id IS NOT NULL AS duo_bekend,
           d.groep, d.schoolsoort IN ('SBO', 'SO') AS speciaal_onderwijs,
           d.schooladvies IS NOT NULL AND d.schooladvies <> 'ADVIES_NIET_MOGELIJK'
               AS advies_bekend,
           d.schooladvies IN ('HAVO', 'HAVO_VWO', 'VWO') AS havo_plus,
           d.referentieniveau_lezen IS NOT NULL AS lezen_bekend,
           d.referentieniveau_lezen = '<1F' AS lezen_onder_1f,
           d.gewicht_achterstand > 0 AS achterstandsgewicht,
           j.bsn_kind IS NOT NULL AS jeugdhulp_bekend,
           coalesce(j.jeugdhulp, FALSE) AS jeugdhulp,
           coalesce(j.jeugd_ggz, FALSE) AS jeugd_ggz,
           coalesce(j.jeugdhulp_verblijf, FALSE) AS jeugdhulp_verblijf,
           coalesce(j.jeugdbescherming, FALSE) AS jeugdbescherming
    FROM kinderen k
    LEFT JOIN ouders o1 ON o1.bsn_persoon = k.ouder1
    LEFT JOIN ouders o2 ON o2.bsn_persoon = k.ouder2
    LEFT JOIN ggd_jgz_d g ON g.bsn_kind = k.kind
    LEFT JOIN duo_d d ON d.leerling_id = k.kind
    LEFT JOIN jeugdhulp_k j ON j.bsn_kind = k.kind
    """


def quality_sql(source: str) -> str:
    """Records, distinct keys, duplicates and matches of one source against the population."""
    key = KEYS[source]
    population = {
        "inkomen": "SELECT ouder1 AS k FROM kinderen UNION SELECT ouder2 FROM kinderen",
        # unborn children link to their household through the mother's income record
        "ggd_prenataal": "SELECT bsn_persoon AS k FROM inkomen",
    }.get(source, "SELECT kind AS k FROM kinderen WHERE NOT ongeboren")
    return f"""
    SELECT '{source}' AS bron, count(*) AS records,
           count(DISTINCT {key}) AS sleutels,
           count(*) - count({key}) AS zonder_sleutel,
           count({key}) - count(DISTINCT {key}) AS dubbel,
           (SELECT count(DISTINCT s.{key}) FROM {source} s
             WHERE s.{key} IN ({population})) AS gekoppeld
    FROM {source}
    """


def coverage_sql() -> str:
    """Per buurt: children, and how many of them each source covers (for the release)."""
    return """
    SELECT buurtcode,
           count(*) FILTER (WHERE NOT ongeboren) AS kinderen,
           count(*) FILTER (WHERE NOT ongeboren AND jgz_bekend) AS ggd_jgz,
           count(*) FILTER (WHERE NOT ongeboren AND inkomen_bekend) AS inkomen,
           count(*) FILTER (WHERE NOT ongeboren AND leeftijd_maanden >= 48) AS kinderen_4_11,
           count(*) FILTER (WHERE NOT ongeboren AND leeftijd_maanden >= 48 AND duo_bekend) AS duo
    FROM gekoppeld GROUP BY buurtcode ORDER BY buurtcode
    """


@dataclass(frozen=True)
class Linked:
    """The linked table (no pseudonyms) and linkage quality, all in memory."""

    table: pa.Table
    quality: pd.DataFrame  # per source: records, keys, duplicates, matched, unmatched
    coverage: pd.DataFrame  # per buurt: children and how many each source covers


class Linker:
    """An in-memory DuckDB that links the sources; spilling to disk is off."""

    def __init__(self, threads: int | None = None) -> None:
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": "",
            "max_temp_directory_size": "0B",
        }
        if threads:
            config["threads"] = str(threads)
        self.con = duckdb.connect(":memory:", config=config)
        self.con.execute("SET enable_external_access = false")  # no files in, none out

    def run(self, sql: str, step: str) -> duckdb.DuckDBPyConnection:
        """Execute one statement; errors name the step, not the data."""
        try:
            return self.con.execute(sql)
        except duckdb.Error as e:
            raise LinkError(
                f"linkage step {step!r} failed: {type(e).__name__}: {str(e).splitlines()[0]}"
            ) from None

    def link(
        self, tables: dict[str, pa.Table], geo: pd.DataFrame, reference_date: dt.date
    ) -> Linked:
        """Link the sources (all present; empty tables where a partner sent nothing)."""
        for name in SOURCES:
            self.con.register(name, tables[name])
        self.con.register("geo", geo[["buurtcode"]])
        for source in ("brp", "ggd_jgz", "ggd_prenataal", "duo"):
            self.run(dedup_sql(source, tables[source].column_names), f"deduplicate {source}")
        self.run(population_sql(), "population")
        self.run(parents_sql(), "parents")
        self.run(youth_care_sql(reference_date), "youth care")
        self.run(linked_sql(), "link")
        quality = pd.concat(
            [self.run(quality_sql(s), f"quality {s}").df() for s in SOURCES], ignore_index=True
        )
        quality["niet_gekoppeld"] = quality["sleutels"] - quality["gekoppeld"]
        quality["ontdubbeling"] = quality["bron"].map(RESOLUTION)
        coverage = self.run(coverage_sql(), "coverage").df()
        table = self.con.sql("SELECT * FROM gekoppeld").to_arrow_table()
        return Linked(table, quality, coverage)
