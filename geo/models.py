"""The store's tables as GeoAlchemy2 models.

The migrations in ``geo/migrations`` create the schema; these models describe it for Python code:
the loaders read column types, required fields, vocabularies (``info["vocab"]``) and natural keys
(``__table__.info["natural_key"]``) from here, and a test checks that models and database agree.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo import vocab

SRID = 4326


def field_type(kind: object) -> str:
    """A column's type as the API and the exports name it (one of geo.cql.TYPES).

    JSON columns are lists of records (a project's partners, investments, ...): published as
    they are, never filtered on (``geo.cql`` refuses them).
    """
    if isinstance(kind, JSON):
        return "object[]"
    if isinstance(kind, ARRAY):
        return "string[]"
    if isinstance(kind, Geometry):
        return "geometry"
    for sql_type, name in ((Boolean, "boolean"), (Integer, "integer"), (Float, "number"),
                           (DateTime, "datetime"), (Date, "date")):  # fmt: skip
        if isinstance(kind, sql_type):
            return name
    return "string"


def geometry(kind: str) -> Mapped:
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=False), nullable=False)


def one_of(values: tuple[str, ...], nullable: bool = True) -> Mapped:
    return mapped_column(Text, nullable=nullable, info={"vocab": values})


def commodities() -> Mapped:
    return mapped_column(ARRAY(Text), nullable=False, info={"vocab": vocab.COMMODITIES})


class Base(DeclarativeBase):
    pass


class Sourced:
    """Every record says where it comes from; ``updated_at`` is set by a trigger."""

    source: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Ranked:
    """A point layer thinned in vector tiles: ``minzoom`` is each point's tile rank, the lowest
    zoom at which it shows (geo.tile_rank, migration 0010). The database keeps it; it is
    internal: never published, exported or read from files."""

    minzoom: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default="0", info={"internal": True}
    )


def internal(column: Column) -> bool:
    """Columns the platform keeps for itself (tile ranks): not part of a layer's records."""
    return bool(column.info.get("internal"))


class Shared:
    """Who may see a record (row-level security, migration 0005): ``visibility`` is public,
    shared (with the organisations in ``shared_with``) or confidential (its owner only);
    authorities see every record. A record with no owner is the platform's own and is public."""

    visibility: Mapped[str] = mapped_column(
        Text, nullable=False, server_default="public", info={"vocab": vocab.VISIBILITY}
    )
    owner_org: Mapped[int | None] = mapped_column(BigInteger)
    shared_with: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default="{}"
    )


def radius() -> Mapped:
    """How far the real site may lie from the point, in km: the uncertainty of the location."""
    return mapped_column(Float)


class Province(Sourced, Shared, Base):
    __tablename__ = "provinces"
    __table_args__ = {"info": {"natural_key": "name"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    iso_code: Mapped[str | None] = mapped_column(Text)
    shape_id: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    geom = geometry("MULTIPOLYGON")


class District(Sourced, Shared, Base):
    __tablename__ = "districts"
    __table_args__ = {"info": {"natural_key": "name"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    province: Mapped[str | None] = mapped_column(Text)
    shape_id: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    geom = geometry("MULTIPOLYGON")


class Deposit(Sourced, Shared, Ranked, Base):
    __tablename__ = "deposits"
    # Its resource figures are served inside each deposit (function of migration 0014).
    __table_args__ = {
        "info": {"natural_key": "name", "published_only": {"resources": "deposit_resources_of"}}
    }

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    commodities: Mapped[list[str]] = commodities()
    deposit_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = one_of(vocab.DEPOSIT_STATUS, nullable=False)
    status_note: Mapped[str | None] = mapped_column(Text)
    tonnage_mt: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[float | None] = mapped_column(Float)
    grade_unit: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = one_of(vocab.RESOURCE_CLASSIFICATION)
    reporting_code: Mapped[str | None] = one_of(vocab.REPORTING_CODE)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    operator: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    coord_quality: Mapped[str] = one_of(vocab.COORD_QUALITY, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    coord_radius_km: Mapped[float | None] = radius()
    names_source: Mapped[str | None] = mapped_column(Text)
    geom = geometry("POINT")


class Concession(Sourced, Shared, Base):
    __tablename__ = "concessions"
    __table_args__ = {"info": {"natural_key": "licence_no"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    licence_no: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    licence_type: Mapped[str] = one_of(vocab.LICENCE_TYPE, nullable=False)
    holder: Mapped[str | None] = mapped_column(Text)
    holder_country: Mapped[str | None] = mapped_column(Text)
    commodities: Mapped[list[str]] = commodities()
    status: Mapped[str] = one_of(vocab.LICENCE_STATUS, nullable=False)
    applied_on: Mapped[dt.date | None] = mapped_column(Date)
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """An application's priority stamp, set by the database (migration 0009)."""
    granted_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    area_km2: Mapped[float | None] = mapped_column(
        Float, Computed("ST_Area(geom::geography) / 1e6", persisted=True)
    )
    province: Mapped[str | None] = mapped_column(Text)
    authority: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    notes: Mapped[str | None] = mapped_column(Text)
    geom = geometry("MULTIPOLYGON")


class Facility(Sourced, Shared, Ranked, Base):
    __tablename__ = "facilities"
    __table_args__ = {"info": {"natural_key": "name"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    kind: Mapped[str] = one_of(vocab.FACILITY_KIND, nullable=False)
    status: Mapped[str | None] = one_of(vocab.FACILITY_STATUS)
    capacity: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    coord_quality: Mapped[str] = one_of(vocab.COORD_QUALITY, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    coord_radius_km: Mapped[float | None] = radius()
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    geom = geometry("POINT")


class Sez(Sourced, Shared, Base):
    """A special economic zone: a point until its boundary is known, then a multipolygon."""

    __tablename__ = "sezs"
    __table_args__ = {"info": {"natural_key": "name", "geometry_types": ("POINT", "MULTIPOLYGON")}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    status: Mapped[str | None] = one_of(vocab.SEZ_STATUS)
    area_acres: Mapped[float | None] = mapped_column(Float)
    province: Mapped[str | None] = mapped_column(Text)
    sectors: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    coord_quality: Mapped[str] = one_of(vocab.COORD_QUALITY, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    coord_radius_km: Mapped[float | None] = radius()
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    geom = geometry("GEOMETRY")


class Corridor(Sourced, Shared, Base):
    __tablename__ = "corridors"
    __table_args__ = {"info": {"natural_key": "ref"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = one_of(vocab.CORRIDOR_MODE, nullable=False)
    status: Mapped[str | None] = one_of(vocab.CORRIDOR_STATUS)
    cpec: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    length_km: Mapped[float | None] = mapped_column(
        Float, Computed("ST_Length(geom::geography) / 1e3", persisted=True)
    )
    published_length_km: Mapped[float | None] = mapped_column(Float)
    coord_quality: Mapped[str] = one_of(vocab.COORD_QUALITY, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    # Migration 0013: names in three languages, the published length's source, the class.
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    road_class: Mapped[str | None] = one_of(vocab.CORRIDOR_CLASS)
    length_source_url: Mapped[str | None] = mapped_column(Text)
    length_as_of: Mapped[dt.date | None] = mapped_column(Date)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    geom = geometry("MULTILINESTRING")


LAYERS: dict[str, type[Base]] = {
    model.__tablename__: model
    for model in (Province, District, Deposit, Concession, Facility, Sez, Corridor)
}
"""Every table a file can be loaded into or exported from, by name."""


class Link(Base):
    """A deposit's link to its corridor (access), nearest SEZ or nearest port, by network.

    Derived, not loaded: ``geo.network`` rebuilds the table from corridors and sites (migration
    0003). A link that cannot exist has no geometry and says why in ``reason``.
    """

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    from_layer: Mapped[str] = mapped_column(Text, nullable=False)
    from_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    from_name: Mapped[str | None] = mapped_column(Text)
    to_layer: Mapped[str | None] = mapped_column(Text)
    to_id: Mapped[int | None] = mapped_column(BigInteger)
    to_name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(
        Text, nullable=False, info={"vocab": ("access", "sez", "port")}
    )
    km: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False), nullable=True)
    # Migration 0013: how the route is made, and how the deposit reaches the network.
    road_km: Mapped[float | None] = mapped_column(Float)
    rail_km: Mapped[float | None] = mapped_column(Float)
    transfers: Mapped[int | None] = mapped_column(Integer)
    access_detour: Mapped[float | None] = mapped_column(Float)
    access_kmh: Mapped[float | None] = mapped_column(Float)


class Project(Sourced, Shared, Base):
    """A value-chain project (migration 0006); its details are rows of the tables below."""

    __tablename__ = "projects"
    __table_args__ = {"info": {"natural_key": "name"}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    stage: Mapped[str] = one_of(vocab.PROJECT_STAGE, nullable=False)
    status: Mapped[str | None] = one_of(vocab.PROJECT_STATUS)
    description: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)


class ProjectDetail:
    """A row about one project, with its own source: deleted with the project."""

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    source: Mapped[str] = mapped_column(Text, nullable=False)
    source_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class ProjectPartner(ProjectDetail, Base):
    __tablename__ = "project_partners"

    organisation: Mapped[str] = mapped_column(Text, nullable=False)
    country: Mapped[str | None] = mapped_column(Text, info={"pattern": vocab.COUNTRY_CODE})
    role: Mapped[str] = one_of(vocab.PARTNER_ROLE, nullable=False)
    share_percent: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class ProjectInvestment(ProjectDetail, Base):
    __tablename__ = "project_investments"

    amount: Mapped[float] = mapped_column(Numeric(20, 2), nullable=False)
    currency: Mapped[str] = mapped_column(Text, nullable=False, info={"vocab": vocab.CURRENCIES})
    committed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class ProjectAgreement(ProjectDetail, Base):
    """An MoU, or an agreement that follows or replaces one (``kind``)."""

    __tablename__ = "project_agreements"

    kind: Mapped[str] = one_of(vocab.AGREEMENT_KIND, nullable=False)
    parties: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    signed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)


class ProjectSite(Base):
    """A project's link to a row of deposits, concessions, facilities or SEZs (by trigger, not FK:
    see migration 0006)."""

    __tablename__ = "project_sites"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    layer: Mapped[str] = one_of(vocab.SITE_LAYERS, nullable=False)
    site_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    role: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


PROJECT_TABLES: tuple[type[Base], ...] = (
    Project, ProjectPartner, ProjectInvestment, ProjectAgreement, ProjectSite
)  # fmt: skip


class ProjectFeature(Base):
    """The published ``projects`` collection: the view ``project_features`` (migration 0006).

    Read-only. Its geometry is the collection of the linked sites' geometries (null without
    sites); the JSON lists carry every detail with its source, the arrays are what to filter on.
    """

    __tablename__ = "project_features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    stage: Mapped[str] = one_of(vocab.PROJECT_STAGE, nullable=False)
    status: Mapped[str | None] = one_of(vocab.PROJECT_STATUS)
    description: Mapped[str | None] = mapped_column(Text)
    partner_names: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    partner_countries: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    partner_roles: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, info={"vocab": vocab.PARTNER_ROLE}
    )
    site_names: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    site_layers: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, info={"vocab": vocab.SITE_LAYERS}
    )
    commodities: Mapped[list[str]] = commodities()
    partners: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    investments: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    agreements: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    sites: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    source_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=True)


DERIVED: dict[str, type[Base]] = {"links": Link, "projects": ProjectFeature}
"""Published tables and views built from the layers (never loaded from files), by layer id."""


class Basemap(Base):
    """The offline basemap (migration 0016, ``geo.basemap``): reference geography, not a layer."""

    __tablename__ = "basemap"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    layer: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_ur: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    rank: Mapped[int | None] = mapped_column(SmallInteger)
    capital: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=False)
