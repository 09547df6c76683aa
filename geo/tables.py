"""Every published table and view by layer id: the layers, and what is derived from them.

Why apart from ``geo.models``: the deposits' resources and their EarthResourceML-Lite views
(``geo.models_erml``, migration 0014) are models built on ``geo.models``; listing them there
made the two modules import each other.
"""

from __future__ import annotations

from geo.models import DERIVED as BUILT_FROM_LAYERS
from geo.models import LAYERS, Base
from geo.models_erml import (
    CommodityResourceView,
    DepositResource,
    MineralOccurrenceView,
    ResourceFeature,
)

DERIVED: dict[str, type[Base]] = {
    **BUILT_FROM_LAYERS,
    "resources": ResourceFeature,
    "mineraloccurrences": MineralOccurrenceView,
    "commodityresources": CommodityResourceView,
}
"""Published tables and views built from the layers (never loaded from files), by layer id."""

__all__ = ["DERIVED", "LAYERS", "DepositResource"]
