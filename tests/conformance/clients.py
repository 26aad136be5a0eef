"""GIS clients against a running geoalign server (issue 16), run by tests/it/conformance.rs.

Usage: python clients.py BASE_URL MBTILES_FILE

- openapi-spec-validator on /api/openapi.json and /ogc/api;
- OWSLib (owslib.ogcapi.features) from the landing page with a trailing slash: every
  collection, its queryables, items with a bbox and with a CQL2 filter;
- GDAL's OAPIF driver (through pyogrio): every collection with a bbox and a filter;
- GDAL's OGCAPI driver reads features of the vector tiles;
- GDAL reads the MBTiles file with typed fields.
Prints one line per check; exits non-zero on the first failure.
"""

import json
import sys
import urllib.request

from openapi_spec_validator import validate
from owslib.ogcapi.features import Features
import pyogrio
from pyogrio import raw

BASE, MBTILES = sys.argv[1], sys.argv[2]
BBOX = (-73.99, 40.74, -73.98, 40.75)
FILTER = "population_estimate > 30000"


def get(path):
    with urllib.request.urlopen(BASE + path) as r:
        return json.load(r)


for path in ("/api/openapi.json", "/ogc/api"):
    validate(get(path))
    print("openapi-spec-validator:", path, "valid")

features = Features(BASE + "/ogc/")
collections = [c["id"] for c in features.collections()["collections"]]
assert collections, "no collections"
for cid in collections:
    queryables = features.collection_queryables(cid)
    assert "population_estimate" in queryables["properties"], (cid, queryables)
    everything = features.collection_items(cid, limit=10000)
    boxed = features.collection_items(cid, bbox=list(BBOX), limit=10000)
    assert 0 < boxed["numberMatched"] < everything["numberMatched"], (cid, boxed["numberMatched"])
    filtered = features.collection_items(cid, filter=FILTER, limit=10000)
    expected = [
        f["id"] for f in everything["features"]
        if (f["properties"].get("population_estimate") or 0) > 30000
    ]
    got = [f["id"] for f in filtered["features"]]
    assert got == expected and len(got) > 0, (cid, len(got), len(expected))
    print(f"owslib: {cid}: {everything['numberMatched']} features, bbox {boxed['numberMatched']}, filter {len(got)}")

print("pyogrio GDAL", pyogrio.__gdal_version_string__)
for cid in collections:
    source = f"OAPIF:{BASE}/ogc"
    meta, _, geometry, fields = raw.read(source, layer=cid)
    names = list(meta["fields"])
    types = dict(zip(names, meta["dtypes"]))
    assert types["population_estimate"].startswith("int"), (cid, types["population_estimate"])
    _, _, boxed, _ = raw.read(source, layer=cid, bbox=BBOX)
    assert 0 < len(boxed) < len(geometry), (cid, len(boxed), len(geometry))
    _, _, _, filtered = raw.read(source, layer=cid, where=FILTER)
    population = filtered[names.index("population_estimate")]
    assert len(population) > 0 and all(p > 30000 for p in population), (cid, list(population))
    print(f"gdal OAPIF: {cid}: {len(geometry)} features, bbox {len(boxed)}, filter {len(population)}")

# GDAL's OGCAPI driver takes the collection's (CRS84) extent for coordinates of the tile
# matrix set's CRS, so without an area of interest it keeps the zooms whose tiles meet
# that box near (0, 0): the coarse ones, which the data-clipped limits still allow.
TILES = f"OGCAPI:{BASE}/ogc/collections/nyc-territories"
zooms = [t[0] for t in pyogrio.list_layers(TILES)]
assert zooms, zooms
_, _, coarse, _ = raw.read(TILES, layer=zooms[0])
assert len(coarse) > 0, zooms[0]
# With the tileset's own box (EPSG:3857) as the area of interest, every zoom reads.
tileset = get("/ogc/collections/nyc-territories/tiles/WebMercatorQuad")
(minx, miny), (maxx, maxy) = tileset["boundingBox"]["lowerLeft"], tileset["boundingBox"]["upperRight"]
area = dict(MINX=minx, MINY=miny, MAXX=maxx, MAXY=maxy)
meta, _, fine, _ = raw.read(TILES, layer="Zoom level 12", **area)
assert len(fine) > len(coarse) and "population_estimate" in list(meta["fields"]), (len(fine), meta["fields"])
print(f"gdal OGCAPI tiles: {len(zooms)} zooms without an area, {zooms[0]}: {len(coarse)} features, zoom 12 in the tileset's box: {len(fine)}")

meta = pyogrio.read_info(MBTILES, layer="territories")
types = dict(zip(meta["fields"], meta["dtypes"]))
assert not types["population_estimate"].startswith("object"), types
assert meta["geometry_type"] in ("Polygon", "MultiPolygon"), meta["geometry_type"]
print("gdal MBTiles: territories", meta["geometry_type"], "population_estimate", types["population_estimate"])
