"""The shared, versioned schemas of the five partner sources (six record types).

Field names and value lists follow the partners' own registrations: BRP (gemeente), DUO's BRON
registration for primary education, the GGD's youth-health-care file (JGZ, Basisdataset JGZ), CBS's
youth-care categories, and the income and benefit registrations. A change of meaning is a new
version, never an edit.
"""

from __future__ import annotations

from schemas.model import Column, SourceSchema

BRP = SourceSchema(
    id="brp",
    version=1,
    partner="gemeente",
    title="BRP: kinderen 0–11 jaar met hun huishouden",
    description="Children registered in the municipality on the reference date, from the BRP.",
    columns=(
        Column(name="bsn_kind", kind="bsn", description="BSN of the child"),
        Column(name="geboortedatum", kind="birth_date", description="Date of birth of the child"),
        Column(
            name="geslacht",
            kind="category",
            values=("M", "V", "O"),
            description="Sex as registered (M man, V vrouw, O onbekend)",
        ),
        Column(name="buurtcode", kind="buurtcode", description="CBS buurt code of the address"),
        Column(name="huishoudnummer", kind="huishouden_id", description="Household (address) id"),
        Column(name="bsn_ouder1", kind="bsn", required=False, description="BSN of parent 1"),
        Column(name="bsn_ouder2", kind="bsn", required=False, description="BSN of parent 2"),
        Column(
            name="aantal_ouders_huishouden",
            kind="integer",
            minimum=0,
            maximum=2,
            description="Number of parents living in the child's household",
        ),
        Column(
            name="verhuizingen_24m",
            kind="integer",
            minimum=0,
            maximum=30,
            description="Number of moves in the 24 months before the reference date",
        ),
    ),
)

DUO = SourceSchema(
    id="duo",
    version=1,
    partner="duo",
    title="DUO: leerlingen primair onderwijs",
    description="Pupils in primary and special education (BRON-PO) on the reference date.",
    columns=(
        Column(
            name="leerling_id",
            kind="leerling_id",
            description="BSN, or onderwijsnummer for pupils without a BSN",
        ),
        Column(name="brin_vestiging", kind="brin", description="School: BRIN + location number"),
        Column(
            name="schoolsoort",
            kind="category",
            values=("BO", "SBO", "SO"),
            description="Basisonderwijs, speciaal basisonderwijs, speciaal onderwijs",
        ),
        Column(name="groep", kind="integer", minimum=1, maximum=8, description="Groep 1–8"),
        Column(
            name="schooladvies",
            kind="category",
            required=False,
            values=(
                "VSO",
                "PRO",
                "VMBO_B",
                "VMBO_BK",
                "VMBO_K",
                "VMBO_KGT",
                "VMBO_GT",
                "VMBO_GT_HAVO",
                "HAVO",
                "HAVO_VWO",
                "VWO",
                "ADVIES_NIET_MOGELIJK",
            ),
            description="Final school advice (groep 8 only), in DUO's categories",
        ),
        Column(
            name="referentieniveau_lezen",
            kind="category",
            required=False,
            values=("<1F", "1F", "2F"),
            description="Reading level reached at the doorstroomtoets (groep 8)",
        ),
        Column(
            name="referentieniveau_rekenen",
            kind="category",
            required=False,
            values=("<1F", "1F", "1S"),
            description="Maths level reached at the doorstroomtoets (groep 8)",
        ),
        Column(
            name="gewicht_achterstand",
            kind="number",
            minimum=0,
            maximum=1.2,
            description="Pupil weight for educational disadvantage (0, 0.3 or 1.2)",
        ),
    ),
)

GGD_JGZ = SourceSchema(
    id="ggd_jgz",
    version=1,
    partner="ggd",
    title="GGD: jeugdgezondheidszorg, laatste contact",
    description="The child's latest youth-health-care contact (Basisdataset JGZ).",
    columns=(
        Column(name="bsn_kind", kind="bsn", description="BSN of the child"),
        Column(name="contactdatum", kind="date", description="Date of the latest JGZ contact"),
        Column(
            name="signaal_taalontwikkeling",
            kind="boolean",
            description="Language-development signal (VTO-taal / Van Wiechen) at the contact",
        ),
        Column(
            name="gewichtsklasse",
            kind="category",
            values=("ONDERGEWICHT", "GEZOND", "OVERGEWICHT", "OBESITAS"),
            description="Weight class from BMI for age and sex (Cole cut-offs)",
        ),
        Column(
            name="vaccinatiestatus",
            kind="category",
            values=("VOLLEDIG", "ONVOLLEDIG", "GEEN"),
            description="Status in the Rijksvaccinatieprogramma for the child's age",
        ),
        Column(name="vve_indicatie", kind="boolean", description="Indication for VVE"),
        Column(
            name="geboortegewicht_gram",
            kind="integer",
            required=False,
            minimum=300,
            maximum=6500,
            description="Birth weight in grams",
        ),
        Column(
            name="zwangerschapsduur_weken",
            kind="integer",
            required=False,
            minimum=20,
            maximum=45,
            description="Gestational age at birth in completed weeks",
        ),
        Column(name="meeroken", kind="boolean", description="Child exposed to smoking at home"),
    ),
)

GGD_PRENATAAL = SourceSchema(
    id="ggd_prenataal",
    version=1,
    partner="ggd",
    title="GGD: prenatale registraties",
    description=(
        "Pregnancies known to the JGZ (prenatal home visit, midwife referral), keyed by the "
        "mother's BSN: the unborn child has none. The buurt comes from the GGD's BRP subscription."
    ),
    columns=(
        Column(name="bsn_moeder", kind="bsn", description="BSN of the mother"),
        Column(
            name="verwachte_bevallingsdatum",
            kind="birth_date",
            description="Expected due date (becomes age in months, negative before birth)",
        ),
        Column(name="buurtcode", kind="buurtcode", description="CBS buurt code of the mother"),
        Column(name="roken_zwangerschap", kind="boolean", description="Smoking during pregnancy"),
    ),
)

JEUGDHULP = SourceSchema(
    id="jeugdhulp",
    version=1,
    partner="jeugdhulp",
    title="Jeugdhulp: trajecten",
    description="Youth-care trajectories (Beleidsinformatie Jeugd categories), one row each.",
    columns=(
        Column(name="bsn_kind", kind="bsn", description="BSN of the child"),
        Column(
            name="zorgvorm",
            kind="category",
            values=(
                "JEUGDHULP_ZONDER_VERBLIJF",
                "JEUGDHULP_MET_VERBLIJF",
                "JEUGD_GGZ",
                "JEUGDBESCHERMING",
            ),
            description="Type of care",
        ),
        Column(name="begindatum", kind="date", description="Start of the trajectory"),
        Column(
            name="einddatum",
            kind="date",
            required=False,
            description="End of the trajectory (empty while running)",
        ),
    ),
)

INKOMEN = SourceSchema(
    id="inkomen",
    version=1,
    partner="inkomen",
    title="Inkomen en voorzieningen: ouders",
    description="Income, benefits and education of parents, one row per person.",
    columns=(
        Column(name="bsn_persoon", kind="bsn", description="BSN of the parent"),
        Column(
            name="inkomen_onder_120_sm",
            kind="boolean",
            description="Household income below 120 % of the social minimum",
        ),
        Column(name="bijstand", kind="boolean", description="Receives social assistance (Pw)"),
        Column(name="schuldsanering", kind="boolean", description="In debt restructuring (Wsnp)"),
        Column(
            name="opleidingsniveau",
            kind="category",
            required=False,
            values=("LAAG", "MIDDEN", "HOOG"),
            description="Highest completed education (CBS: laag, middelbaar, hoog)",
        ),
    ),
)

SCHEMAS: dict[str, SourceSchema] = {
    s.id: s for s in (BRP, DUO, GGD_JGZ, GGD_PRENATAAL, JEUGDHULP, INKOMEN)
}
