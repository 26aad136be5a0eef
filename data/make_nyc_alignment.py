#!/usr/bin/env python3
"""Builds the demo alignment sheet for the NYC sample (data/nyc_alignment.csv).

Territory = the first four digits of the MODZCTA ("T1000" ... "T1169"), a unit of
neighbouring ZIPs in USPS numbering; district = the borough (from the county of the
ZIP in nyc_zip_points.csv); region = two halves of the city. MODZCTA 99999 (parks and
airports, no population) is left unassigned on purpose. Reps: one per territory,
named after it, homed at the territory's first ZIP point.
"""
import csv, json, pathlib

here = pathlib.Path(__file__).parent
zips = [f["properties"]["modzcta"] for f in json.load(open(here / "nyc_modzcta.geojson"))["features"]]
county = {}
points = {}
for row in csv.DictReader(open(here / "nyc_zip_points.csv")):
    county.setdefault(row["zip"], row["county"])
    points.setdefault(row["zip"], (row["lon"], row["lat"]))
borough = {"New York County": "Manhattan", "Kings County": "Brooklyn", "Queens County": "Queens",
           "Bronx County": "Bronx", "Richmond County": "Staten Island"}
region = {"Manhattan": "North", "Bronx": "North", "Queens": "East", "Brooklyn": "South", "Staten Island": "South"}
rows, territory_borough = [], {}
for z in sorted(zips):
    if z == "99999" or z not in county:
        continue
    territory = "T" + z[:4]
    # A territory lies in the borough of its first ZIP, so parents never conflict.
    b = territory_borough.setdefault(territory, borough[county[z]])
    rows.append((z, territory, b, region[b], "R" + z[:4]))
with open(here / "nyc_alignment.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["unit_id", "territory", "district", "region", "rep"])
    w.writerows(rows)
with open(here / "nyc_reps.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "name", "email", "lon", "lat", "territory"])
    seen = set()
    for z, territory, _, _, rep in rows:
        if rep in seen:
            continue
        seen.add(rep)
        lon, lat = points[z]
        w.writerow([rep, f"Rep {territory[1:]}", f"{rep.lower()}@example.com", lon, lat, territory])
print(len(rows), "units,", len({r[1] for r in rows}), "territories")
