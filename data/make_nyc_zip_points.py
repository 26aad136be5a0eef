#!/usr/bin/env python3
"""Builds data/nyc_zip_points.csv from zip_points_us.csv (stdlib only).

Usage: python3 data/make_nyc_zip_points.py [SRC_DIR]   (SRC_DIR defaults to ../shared/data
relative to the repository root). Rows are copied byte-for-byte, header included, in source order.
"""
import csv
import io
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "data")

with open(os.path.join(here, "nyc_modzcta.geojson")) as f:
    nyc_zips = {ft["properties"]["modzcta"] for ft in json.load(f)["features"]}
cities = {"New York", "Brooklyn", "Bronx", "Staten Island", "Long Island City",
          "Flushing", "Jamaica", "Astoria"}

with open(os.path.join(src, "zip_points_us.csv"), newline="") as f:
    lines = f.read().splitlines(keepends=True)
header = next(csv.reader([lines[0]]))
out = [lines[0]]
for line in lines[1:]:
    row = dict(zip(header, next(csv.reader(io.StringIO(line)))))
    if row["zip"] in nyc_zips or (row["state"] == "NY" and row["city"] in cities):
        out.append(line)
with open(os.path.join(here, "nyc_zip_points.csv"), "w", newline="") as f:
    f.writelines(out)
print(len(out) - 1, "rows")
