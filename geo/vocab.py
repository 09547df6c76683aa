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

RESOURCE_CATEGORY: tuple[str, ...] = (
    "measured",
    "indicated",
    "inferred",
    "measured_indicated",
    "proved",
    "probable",
    "proved_probable",
    "historical",
    "hypothetical",
)
"""A deposit_resources row's category (migration 0014): CRIRSCO's resource and reserve classes,
a historical estimate made before or outside a code, and the hypothetical figures of GSP
inventories (coal), which no code would call a resource."""

RESOURCE_CODE: tuple[str, ...] = (*REPORTING_CODE, "none")
"""The code a resource figure was reported under; ``none`` when the source names none."""

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
    "withdrawn",
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
    "cement",
    "steel",
    "beneficiation",
)

FACILITY_STATUS: tuple[str, ...] = ("planned", "under_construction", "operating", "closed")

SEZ_STATUS: tuple[str, ...] = ("proposed", "approved", "under_development", "operational")

CORRIDOR_MODE: tuple[str, ...] = ("road", "rail")

# Sets a corridor's speed in the network (migration 0013; data/samples/network/speeds.csv).
CORRIDOR_CLASS: tuple[str, ...] = ("motorway", "national highway", "other road", "rail")

CORRIDOR_STATUS: tuple[str, ...] = ("planned", "under_construction", "operational", "upgrading")

VISIBILITY: tuple[str, ...] = ("public", "shared", "confidential")
"""Who sees a record (see migration 0005): everyone, named organisations, its owner only."""
# Value-chain projects (migration 0006).

PROJECT_STAGE: tuple[str, ...] = ("exploration", "mining", "processing", "logistics", "financing")
"""The value-chain stage a project mainly belongs to (the E-Mining Platform's five)."""

PROJECT_STATUS: tuple[str, ...] = (
    "proposed",
    "under_development",
    "operating",
    "suspended",
    "closed",
)

PARTNER_ROLE: tuple[str, ...] = (
    "operator",
    "owner",
    "investor",
    "lender",
    "offtaker",
    "contractor",
    "government",
)

AGREEMENT_KIND: tuple[str, ...] = (
    "mou",
    "framework",
    "definitive",
    "shareholders",
    "contract",
    "lease",
    "extension",
    "implementation",
)
"""What a project agreement is: MoUs and the agreements that follow or replace them."""

SITE_LAYERS: tuple[str, ...] = ("deposits", "concessions", "facilities", "sezs")
"""The layers whose rows a project can be linked to (its geometry is theirs)."""

CURRENCIES: frozenset[str] = frozenset(
    (  # noqa: SIM905  (181 codes as lines of text, not 181 lines)
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD "
        "BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP "
        "DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS "
        "INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD "
        "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR "
        "PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS "
        "SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW "
        "UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA "
        "YER ZAR ZMW ZWG ZWL"
    ).split()
)
"""ISO 4217 alphabetic codes: Debian's iso-codes 4.15.0 list, without XTS (testing) and XXX (no
currency), plus XCG and ZWG (added to ISO 4217 in 2024 and 2025). A set, not a tuple: codes are
shown as they are in every language, so they are not among the vocabularies ``layers.terms``
translates. Withdrawn codes (HRK, SLL, ...) stay: an investment keeps the currency it was made in.
"""

COUNTRY_CODE = "^[A-Z]{2}$"
"""A partner's country: an ISO 3166-1 alpha-2 code (CN, PK, CA); none for multilateral bodies."""
