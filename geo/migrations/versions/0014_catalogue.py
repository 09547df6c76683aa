"""A geologist's catalogue: resources per commodity and category, uncertainty radii, names in
three languages, dated boundaries, processing sites, and EarthResourceML-Lite views.

- **deposit_resources.** One deposit has many resource figures: a tonnage in one category
  (measured, indicated, ... , historical) with one grade per commodity (Reko Diq's Cu % and Au g/t
  are two rows of the same tonnage), under a reporting code, dated and sourced. A row is seen by
  whoever sees its deposit (the policy's subquery runs under the deposits' policies, as links do
  since 0005). Its deposit is kept by triggers, not a foreign key, for 0006's reason (PostgreSQL
  refuses ``TRUNCATE deposits`` while any table references it, and the loader truncates an empty
  layer before a bulk COPY): a row for a missing deposit is refused (23503), and deleting or
  truncating deposits deletes their resources. A change raises the ``deposits`` counter, since a
  deposit's records carry its resources (``deposit_resources_of``).
- **coord_radius_km.** How far the real site may lie from the point: a town-level estimate is
  ``approximate`` with a radius that covers the uncertainty, never a precise-looking point.
- **name_zh, name_ur, names_source** on deposits, facilities, SEZs and provinces: where each
  name comes from, or that it is a transliteration.
- **as_of, source_url** wherever a layer lacked them (the date of the fact, the page itself).
- **Facility kinds** cement, steel and beneficiation, for the plants that take minerals.
- **Views** (``security_invoker``, so they show only what the caller may see; each carries its
  deposit's tile rank ``minzoom``, so vector tiles thin them as they thin the deposits):
  ``resource_features`` (the resources collection, at its deposit's point),
  ``erml_mineral_occurrences`` and ``erml_commodity_resources`` (EarthResourceML-Lite 4
  MineralOccurrenceView and CommodityResourceView field names, CGI/INSPIRE vocabulary URIs).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"
COMMODITIES = (
    "antimony", "barite", "bauxite", "chromite", "coal", "copper", "fluorite", "gemstones",
    "gold", "granite", "graphite", "gypsum", "iron", "lead", "limestone", "lithium",
    "magnesite", "manganese", "marble", "molybdenum", "nickel", "phosphate", "rare_earths",
    "salt", "silver", "sulphur", "tungsten", "uranium", "zinc",
)  # fmt: skip
CATEGORIES = ("measured", "indicated", "inferred", "measured_indicated", "proved", "probable",
              "proved_probable", "historical", "hypothetical")  # fmt: skip
CODES = ("JORC", "NI 43-101", "SAMREC", "PERC", "S-K 1300", "historical", "other", "none")
OLD_KINDS = ("port", "dry_port", "smelter", "refinery", "concentrator", "processing_plant",
             "power_plant", "storage")  # fmt: skip
KINDS = (*OLD_KINDS, "cement", "steel", "beneficiation")
NAMES = "ADD COLUMN name_zh text, ADD COLUMN name_ur text, ADD COLUMN names_source text"
RADIUS = "ADD COLUMN coord_radius_km double precision CHECK (coord_radius_km > 0)"
DATED = "ADD COLUMN as_of date"
ADDED = {
    "deposits": f"{RADIUS}, ADD COLUMN names_source text",
    "facilities": f"{NAMES}, {RADIUS}, {DATED}",
    "sezs": f"{NAMES}, {RADIUS}, {DATED}",
    "provinces": f"{NAMES}, ADD COLUMN source_url text, {DATED}",
    "districts": f"ADD COLUMN source_url text, {DATED}",
}
DROPPED = {
    "deposits": ("coord_radius_km", "names_source"),
    "facilities": ("name_zh", "name_ur", "names_source", "coord_radius_km", "as_of"),
    "sezs": ("name_zh", "name_ur", "names_source", "coord_radius_km", "as_of"),
    "provinces": ("name_zh", "name_ur", "names_source", "source_url", "as_of"),
    "districts": ("source_url", "as_of"),
}

# EarthResourceML-Lite 2.0.1 vocabularies (CGI classifiers, as GA's published examples use them).
CGI = "http://resource.geosciml.org/classifier/cgi"
OCCURRENCE_TYPE = {
    "occurrence": "occurrence", "prospect": "prospect", "explored": "mineral-deposit",
    "development": "ore-deposit", "producing": "ore-deposit", "past_producer": "ore-deposit",
}  # fmt: skip
ASSESSMENT = {
    "measured": "resource-assessment-category/measured-mineral-resource",
    "indicated": "resource-assessment-category/indicated-mineral-resource",
    "inferred": "resource-assessment-category/inferred-mineral-resource",
    "proved": "reserve-assessment-category/proved-ore-reserves",
    "probable": "reserve-assessment-category/probable-ore-reserves",
}
RESERVES = ("proved", "probable", "proved_probable")
COMMODITY_CODE = {"rare_earths": "rare-earth-elements", "iron": "iron-ore"}


def listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


RESOURCES = f"""CREATE TABLE deposit_resources (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deposit_id bigint NOT NULL,
    commodity text NOT NULL CHECK (commodity IN ({listed(COMMODITIES)})),
    category text NOT NULL CHECK (category IN ({listed(CATEGORIES)})),
    tonnage_mt double precision CHECK (tonnage_mt >= 0),
    grade double precision CHECK (grade >= 0),
    grade_unit text,
    contained double precision CHECK (contained >= 0),
    contained_unit text,
    reporting_code text NOT NULL CHECK (reporting_code IN ({listed(CODES)})),
    as_of date NOT NULL,
    source text NOT NULL CHECK (source <> ''),
    source_url text,
    notes text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (grade IS NULL OR grade_unit IS NOT NULL),
    CHECK (contained IS NULL OR contained_unit IS NOT NULL),
    CHECK (tonnage_mt IS NOT NULL OR contained IS NOT NULL),
    UNIQUE (deposit_id, commodity, category, as_of)
)"""

FUNCTIONS = {
    "deposit_resource_deposit_exists": """
    BEGIN
        PERFORM 1 FROM deposits WHERE id = NEW.deposit_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'deposit resource: no deposit %', NEW.deposit_id
                USING ERRCODE = 'foreign_key_violation', TABLE = 'deposit_resources',
                      CONSTRAINT = 'deposit_resources_deposit_exists';
        END IF;
        RETURN NULL;
    END""",
    "forget_deleted_deposit_resources": """
    BEGIN
        DELETE FROM deposit_resources WHERE deposit_id IN (SELECT id FROM gone);
        RETURN NULL;
    END""",
    "forget_truncated_deposit_resources": """
    BEGIN
        DELETE FROM deposit_resources;
        RETURN NULL;
    END""",
}
TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER deposit_resources_deposit_exists AFTER INSERT OR UPDATE "
    "ON deposit_resources FOR EACH ROW EXECUTE FUNCTION deposit_resource_deposit_exists()",
    "CREATE TRIGGER deposits_forget_resources AFTER DELETE ON deposits REFERENCING OLD TABLE "
    "AS gone FOR EACH STATEMENT EXECUTE FUNCTION forget_deleted_deposit_resources()",
    "CREATE TRIGGER deposits_forget_resources_all AFTER TRUNCATE ON deposits "
    "FOR EACH STATEMENT EXECUTE FUNCTION forget_truncated_deposit_resources()",
)

RESOURCES_OF = """CREATE FUNCTION deposit_resources_of(deposit bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(json_agg(json_build_object(
        'commodity', r.commodity, 'category', r.category, 'tonnage_mt', r.tonnage_mt,
        'grade', r.grade, 'grade_unit', r.grade_unit, 'contained', r.contained,
        'contained_unit', r.contained_unit, 'reporting_code', r.reporting_code,
        'as_of', r.as_of, 'source', r.source, 'source_url', r.source_url)
        ORDER BY r.as_of DESC, r.category, r.commodity), '[]'::json)
    FROM deposit_resources r WHERE r.deposit_id = deposit $$"""

RESOURCE_FEATURES = """SELECT r.id, d.name AS deposit, r.commodity, r.category,
    r.tonnage_mt, r.grade, r.grade_unit, r.contained, r.contained_unit, r.reporting_code,
    r.as_of, d.province, d.district, d.coord_quality, r.notes, r.source, r.source_url,
    r.updated_at, d.minzoom, d.geom
    FROM deposit_resources r JOIN deposits d ON d.id = r.deposit_id"""


def case(column: str, mapping: dict[str, str], prefix: str, default: str = "NULL") -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{prefix}{v}'" for k, v in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


COMMODITY_URI = case(
    "r.commodity", COMMODITY_CODE, f"{CGI}/commodity-code/",
    f"'{CGI}/commodity-code/' || replace(r.commodity, '_', '-')",
)  # fmt: skip
OCCURRENCES = f"""SELECT d.id, 'urn:emining:deposits:' || d.id AS identifier, d.name,
    replace({case("d.status", OCCURRENCE_TYPE, "")}, '-', ' ') AS "mineralOccurrenceType",
    replace(array_to_string(d.commodities, ', '), '_', ' ') AS commodity,
    d.operator AS "mineName", d.deposit_type AS "mineralDepositModel",
    d.status_note AS "explorationResult", d.coord_quality AS "observationMethod",
    CASE WHEN d.coord_radius_km IS NULL THEN NULL
         ELSE d.coord_radius_km::text || ' kilometres' END AS "positionalAccuracy",
    d.source, {case("d.status", OCCURRENCE_TYPE, f"{CGI}/mineral-occurrence-type/")}
        AS "mineralOccurrenceType_uri",
    '{CGI}/commodity-code/' || replace(replace(replace(d.commodities[1], 'rare_earths',
        'rare-earth-elements'), 'iron', 'iron-ore'), '_', '-') AS "representativeCommodity_uri",
    '/collections/deposits/items/' || d.id AS specification_uri,
    d.province, d.as_of, d.source_url, d.updated_at, d.minzoom, d.geom
    FROM deposits d"""

COMMODITY_RESOURCES = f"""SELECT r.id, 'urn:emining:resources:' || r.id AS identifier,
    replace(r.commodity, '_', ' ') AS commodity,
    CASE WHEN r.commodity = d.commodities[1] THEN 'primary commodity'
         ELSE 'secondary commodity' END AS "commodityRank",
    d.name AS "mineralOccurrenceName", d.operator AS "mineName",
    concat_ws(' ', coalesce(r.tonnage_mt::text || ' Mt', ''),
        CASE WHEN r.grade IS NULL THEN NULL ELSE '@ ' || r.grade || ' ' || r.grade_unit END,
        CASE WHEN r.contained IS NULL THEN NULL
             ELSE '(' || r.contained || ' ' || r.contained_unit || ' contained)' END)
        AS "oreMeasure",
    CASE WHEN r.category IN ({", ".join(f"'{c}'" for c in RESERVES)}) THEN 'reserve'
         WHEN r.category IN ('historical', 'hypothetical') THEN 'endowment'
         ELSE 'resource' END AS "oreMeasureType",
    replace(r.category, '_', ' and ') AS "oreMeasureAssessmentCategory",
    r.reporting_code AS "classificationMethodUsed", d.coord_quality AS "observationMethod",
    CASE WHEN d.coord_radius_km IS NULL THEN NULL
         ELSE d.coord_radius_km::text || ' kilometres' END AS "positionalAccuracy",
    r.source, {COMMODITY_URI} AS commodity_uri,
    'urn:emining:deposits:' || d.id AS "mineralOccurrence_uri",
    CASE WHEN r.category IN ({", ".join(f"'{c}'" for c in RESERVES)})
         THEN '{CGI}/ore-measure-type/reserve'
         WHEN r.category IN ('historical', 'hypothetical') THEN NULL
         ELSE '{CGI}/ore-measure-type/resource' END AS "oreMeasureType_uri",
    {case("r.category", ASSESSMENT, f"{CGI}/")} AS "oreMeasureAssessmentCategory_uri",
    CASE r.reporting_code WHEN 'JORC' THEN '{CGI}/classification-method-used/jorc-code'
         END AS "classificationMethodUsed_uri",
    '/collections/resources/items/' || r.id AS specification_uri,
    d.province, r.as_of, r.source_url, r.updated_at, d.minzoom, d.geom
    FROM deposit_resources r JOIN deposits d ON d.id = r.deposit_id"""

VIEWS = {
    "resource_features": RESOURCE_FEATURES,
    "erml_mineral_occurrences": OCCURRENCES,
    "erml_commodity_resources": COMMODITY_RESOURCES,
}


def as_of_view(table: str) -> str:
    """Migration 0007's ``{table}_as_of``, made again: a view stores ``t.*`` as the columns the
    table had when it was made, so one made before the new columns would not show them. Its
    columns are the table's less ``minzoom`` (migration 0010's internal tile rank, which 0007's
    views never had), each taken from the history's record by name, so migration 0010's
    downgrade can make the views again without that column."""
    return f"""DO $do$ DECLARE columns text; fields text; BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg('(x.rec).' || quote_ident(attname), ', ' ORDER BY attnum)
        INTO columns, fields
        FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0
        AND NOT attisdropped AND attname <> 'minzoom';
    EXECUTE format($view$CREATE VIEW {table}_as_of WITH (security_invoker = true) AS
    SELECT %1$s FROM {table} t WHERE NOT EXISTS (
        SELECT 1 FROM history h WHERE h.layer = '{table}' AND h.fid = t.id
        AND h.at > current_setting('emining.as_of')::timestamptz)
    UNION ALL
    SELECT %2$s FROM (
        SELECT jsonb_populate_record(NULL::{table}, h.before) AS rec FROM (
            SELECT DISTINCT ON (fid) op, before FROM history
            WHERE layer = '{table}' AND at > current_setting('emining.as_of')::timestamptz
            ORDER BY fid, version) h
        WHERE h.op <> 'insert') x$view$, columns, fields);
    END $do$"""


def altered(change: dict[str, str]) -> None:
    """ALTER each table under its as-of view: the view is dropped and made anew around it."""
    for table, clause in change.items():
        op.execute(f"DROP VIEW {table}_as_of")
        op.execute(f"SELECT tile_rank_alter('{table}', $${clause}$$)")
        op.execute(as_of_view(table))
        op.execute(f"GRANT SELECT ON {table}_as_of TO {API_ROLE}")


def kind_check(values: tuple[str, ...]) -> str:
    return (
        "ALTER TABLE facilities DROP CONSTRAINT facilities_kind_check, "
        f"ADD CONSTRAINT facilities_kind_check CHECK (kind IN ({listed(values)}))"
    )


def upgrade() -> None:
    altered(ADDED)
    op.execute(kind_check(KINDS))
    op.execute(RESOURCES)
    op.execute("CREATE INDEX deposit_resources_deposit_idx ON deposit_resources (deposit_id)")
    op.execute(
        "CREATE TRIGGER deposit_resources_touch BEFORE UPDATE ON deposit_resources "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )
    # Not for the cascade of a deposit's delete (depth 1): that statement raised it already.
    op.execute(
        "CREATE TRIGGER deposit_resources_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON deposit_resources FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) "
        "EXECUTE FUNCTION note_change_of('deposits')"
    )
    op.execute("ALTER TABLE deposit_resources ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY deposit_resources_read ON deposit_resources FOR SELECT TO {API_ROLE} "
        "USING (EXISTS (SELECT 1 FROM deposits d WHERE d.id = deposit_resources.deposit_id))"
    )
    for name, body in FUNCTIONS.items():  # SECURITY DEFINER: like FK checks, they see every row
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            f"SET search_path = public AS $${body}$$"
        )
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute(RESOURCES_OF)
    for view, query in VIEWS.items():
        op.execute(f"CREATE VIEW {view} WITH (security_invoker = true) AS {query}")
    op.execute(f"GRANT SELECT ON deposit_resources, {', '.join(VIEWS)} TO {API_ROLE}")


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    op.execute("DROP FUNCTION deposit_resources_of(bigint)")
    op.execute("DROP TRIGGER deposits_forget_resources ON deposits")
    op.execute("DROP TRIGGER deposits_forget_resources_all ON deposits")
    op.execute("DROP TABLE deposit_resources")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DELETE FROM facilities WHERE kind IN ('cement', 'steel', 'beneficiation')")
    op.execute(kind_check(OLD_KINDS))
    altered({t: ", ".join(f"DROP COLUMN {c}" for c in cols) for t, cols in DROPPED.items()})
