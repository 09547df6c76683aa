"""Controlled vocabularies of the store.

The loaders validate against these lists so that a bad value is reported with its file and row
before anything is written. The database enforces the same lists with CHECK constraints written
out literally in the migrations (a migration must not change when this module does); the test
suite checks that both agree.
"""

COMMODITIES: tuple[str, ...] = (
    "antimony",
    "barite",
    "bauxite",
    "chromite",
    "coal",
    "copper",
    "fluorite",
    "gemstones",
    "gold",
    "granite",
    "graphite",
    "gypsum",
    "iron",
    "lead",
    "limestone",
    "lithium",
    "magnesite",
    "manganese",
    "marble",
    "molybdenum",
    "nickel",
    "phosphate",
    "rare_earths",
    "salt",
    "silver",
    "sulphur",
    "tungsten",
    "uranium",
    "zinc",
)

DEPOSIT_STATUS: tuple[str, ...] = (
    "occurrence",
    "prospect",
    "explored",
    "development",
    "producing",
    "past_producer",
)

COORD_QUALITY: tuple[str, ...] = ("sourced", "approximate")

RESOURCE_CLASSIFICATION: tuple[str, ...] = (
    "measured",
    "indicated",
    "inferred",
    "measured_indicated",
    "proven",
    "probable",
    "proven_probable",
    "historical",
)

REPORTING_CODE: tuple[str, ...] = (
    "JORC",
    "NI 43-101",
    "SAMREC",
    "PERC",
    "S-K 1300",
    "historical",
    "other",
)

LICENCE_TYPE: tuple[str, ...] = (
    "reconnaissance",
    "exploration",
    "prospecting",
    "mineral_deposit_retention",
    "mining_lease",
    "small_scale_mining_lease",
)

LICENCE_STATUS: tuple[str, ...] = (
    "application",
    "granted",
    "renewed",
    "suspended",
    "expired",
    "relinquished",
    "refused",
)

FACILITY_KIND: tuple[str, ...] = (
    "port",
    "dry_port",
    "smelter",
    "refinery",
    "concentrator",
    "processing_plant",
    "power_plant",
    "storage",
)

FACILITY_STATUS: tuple[str, ...] = ("planned", "under_construction", "operating", "closed")

SEZ_STATUS: tuple[str, ...] = ("proposed", "approved", "under_development", "operational")

CORRIDOR_MODE: tuple[str, ...] = ("road", "rail")

CORRIDOR_STATUS: tuple[str, ...] = ("planned", "under_construction", "operational", "upgrading")

VISIBILITY: tuple[str, ...] = ("public", "shared", "confidential")
"""Who sees a record (see migration 0005): everyone, named organisations, its owner only."""
