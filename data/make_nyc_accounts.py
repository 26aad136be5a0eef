#!/usr/bin/env python3
"""Writes data/nyc_accounts.csv: 120 synthetic customer accounts for the tutorial.

Each account sits near a real NYC ZIP point of nyc_zip_points.csv (the ZIP's point moved by
up to ~300 m, seeded, so the file is the same on every run), with a synthetic name,
annual revenue and employee count. The accounts are made up; the places are real.
"""
import csv
import random
from pathlib import Path

here = Path(__file__).resolve().parent
rng = random.Random(20261201)
with open(here / "nyc_zip_points.csv", newline="") as f:
    zips = [r for r in csv.DictReader(f) if r["zip_type"] == "Standard"]
rng.shuffle(zips)
kinds = ["Deli", "Clinic", "Pharmacy", "Hardware", "Bakery", "Dental", "Garage", "Florist"]
with open(here / "nyc_accounts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "name", "lon", "lat", "revenue", "employees"])
    for i, z in enumerate(zips[:120]):
        lon = float(z["lon"]) + rng.uniform(-0.003, 0.003)
        lat = float(z["lat"]) + rng.uniform(-0.002, 0.002)
        name = f"{z['city']} {rng.choice(kinds)} {i + 1}"
        w.writerow([f"A{i + 1:04d}", name, f"{lon:.6f}", f"{lat:.6f}",
                    rng.randrange(50, 5000) * 1000, rng.randrange(2, 400)])
