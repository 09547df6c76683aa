"""The deposit catalogue's resource figures and its EarthResourceML-Lite views (migration 0014).

Why views with ERML-Lite 2.0.1 field names: OneGeology and INSPIRE tools read
``MineralOccurrenceView`` and ``CommodityResourceView`` layers by these names and CGI vocabulary
URIs, so serving them as they are spares every client a mapping. They are read-only, and
``security_invoker``: a caller sees the rows of the deposits it may see.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, DateTime, Float, Identity, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from geo import vocab
from geo.models import SRID, Base, Ranked, one_of


class DepositResource(Base):
    """A resource or reserve figure of one deposit: one tonnage in one category with the grade
    of one commodity (a Cu-Au tonnage is two rows), dated and sourced (migration 0014).

    Not a layer of its own: it has no geometry, is seen by whoever sees its deposit, and is
    deleted with it (by trigger: see migration 0014). ``geo.resources`` loads it from CSV by
    deposit name.
    """

    __tablename__ = "deposit_resources"
    __table_args__ = {"info": {"natural_key": ("deposit_id", "commodity", "category", "as_of")}}

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    deposit_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    """A deposit's id, kept by triggers as a foreign key would be (migration 0014)."""
    commodity: Mapped[str] = one_of(vocab.COMMODITIES, nullable=False)
    category: Mapped[str] = one_of(vocab.RESOURCE_CATEGORY, nullable=False)
    tonnage_mt: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[float | None] = mapped_column(Float)
    grade_unit: Mapped[str | None] = mapped_column(Text)
    contained: Mapped[float | None] = mapped_column(Float)
    contained_unit: Mapped[str | None] = mapped_column(Text)
    reporting_code: Mapped[str] = one_of(vocab.RESOURCE_CODE, nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    source_url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def view_geometry() -> Mapped:
    return mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)


class ResourceFeature(Ranked, Base):
    """The published ``resources`` collection (view ``resource_features``, migration 0014):
    each resource row at its deposit's point, with the deposit's name and province to filter."""

    __tablename__ = "resource_features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deposit: Mapped[str] = mapped_column(Text, nullable=False)
    commodity: Mapped[str] = one_of(vocab.COMMODITIES, nullable=False)
    category: Mapped[str] = one_of(vocab.RESOURCE_CATEGORY, nullable=False)
    tonnage_mt: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[float | None] = mapped_column(Float)
    grade_unit: Mapped[str | None] = mapped_column(Text)
    contained: Mapped[float | None] = mapped_column(Float)
    contained_unit: Mapped[str | None] = mapped_column(Text)
    reporting_code: Mapped[str] = one_of(vocab.RESOURCE_CODE, nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    province: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    coord_quality: Mapped[str] = one_of(vocab.COORD_QUALITY, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    source_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom = view_geometry()


def text(name: str, nullable: bool = True) -> Mapped:
    """A text column under its EarthResourceML-Lite name (camelCase, quoted in SQL)."""
    return mapped_column(name, Text, nullable=nullable)


class MineralOccurrenceView(Ranked, Base):
    """EarthResourceML-Lite 2.0.1 ``MineralOccurrenceView`` of the deposits (view
    ``erml_mineral_occurrences``, migration 0014): its field names and CGI vocabulary URIs, so
    OneGeology and INSPIRE clients read the deposits without a mapping. Read-only."""

    __tablename__ = "erml_mineral_occurrences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    identifier: Mapped[str] = text("identifier", nullable=False)
    name: Mapped[str] = text("name", nullable=False)
    mineralOccurrenceType: Mapped[str] = text("mineralOccurrenceType")
    commodity: Mapped[str] = text("commodity")
    mineName: Mapped[str | None] = text("mineName")
    mineralDepositModel: Mapped[str | None] = text("mineralDepositModel")
    explorationResult: Mapped[str | None] = text("explorationResult")
    observationMethod: Mapped[str] = text("observationMethod")
    positionalAccuracy: Mapped[str | None] = text("positionalAccuracy")
    source: Mapped[str] = text("source", nullable=False)
    mineralOccurrenceType_uri: Mapped[str] = text("mineralOccurrenceType_uri")
    representativeCommodity_uri: Mapped[str] = text("representativeCommodity_uri")
    specification_uri: Mapped[str] = text("specification_uri")
    province: Mapped[str | None] = text("province")
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    source_url: Mapped[str | None] = text("source_url")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom = view_geometry()


class CommodityResourceView(Ranked, Base):
    """EarthResourceML-Lite 2.0.1 ``CommodityResourceView`` of ``deposit_resources`` (view
    ``erml_commodity_resources``, migration 0014). Read-only."""

    __tablename__ = "erml_commodity_resources"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    identifier: Mapped[str] = text("identifier", nullable=False)
    commodity: Mapped[str] = text("commodity", nullable=False)
    commodityRank: Mapped[str] = text("commodityRank")
    mineralOccurrenceName: Mapped[str] = text("mineralOccurrenceName", nullable=False)
    mineName: Mapped[str | None] = text("mineName")
    oreMeasure: Mapped[str] = text("oreMeasure")
    oreMeasureType: Mapped[str] = text("oreMeasureType")
    oreMeasureAssessmentCategory: Mapped[str] = text("oreMeasureAssessmentCategory")
    classificationMethodUsed: Mapped[str] = text("classificationMethodUsed")
    observationMethod: Mapped[str] = text("observationMethod")
    positionalAccuracy: Mapped[str | None] = text("positionalAccuracy")
    source: Mapped[str] = text("source", nullable=False)
    commodity_uri: Mapped[str] = text("commodity_uri")
    mineralOccurrence_uri: Mapped[str] = text("mineralOccurrence_uri")
    oreMeasureType_uri: Mapped[str | None] = text("oreMeasureType_uri")
    oreMeasureAssessmentCategory_uri: Mapped[str | None] = text("oreMeasureAssessmentCategory_uri")
    classificationMethodUsed_uri: Mapped[str | None] = text("classificationMethodUsed_uri")
    specification_uri: Mapped[str] = text("specification_uri")
    province: Mapped[str | None] = text("province")
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    source_url: Mapped[str | None] = text("source_url")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom = view_geometry()
