"""What a deposit's site page asks of the other layers: which concessions cover it, which links
leave it, which projects involve it.

Why conditions on the OGC items statements (``geo.query``) rather than queries of their own:
each answer is then built, paged and filtered by visibility exactly as the layer's items are,
so a site page shows a caller nothing their items requests would not.
"""

from __future__ import annotations

from psycopg import sql

from geo.cql_terms import Where
from geo.query import ItemsQuery

MOST = 100  # concessions, links or projects of one site shown (far more than any site has)
COVERING = "ST_Intersects(geom, (SELECT d.geom FROM deposits d WHERE d.id = %s))"
LINKED = "from_layer = 'deposits' AND from_id = %s"
INVOLVED = (
    "id IN (SELECT s.project_id FROM project_sites s WHERE s.layer = 'deposits' AND s.site_id = %s)"
)


def where(condition: str, deposit_id: int) -> ItemsQuery:
    return ItemsQuery(where=Where(sql.SQL(condition), [deposit_id]), limit=MOST)
