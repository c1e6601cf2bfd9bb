"""Distances and search boxes on the globe.

Figures shown to people use geopy's geodesic distance (WGS-84). Filtering first narrows rows with
a latitude/longitude bounding box that the ``(lat, lon)`` indexes answer, so no query scans every
site or location; the exact distance is then computed only for the few rows inside the box.
"""

from __future__ import annotations

import math

from geopy.distance import geodesic

EARTH_KM_PER_DEG_LAT = 110.574


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(geodesic(a, b).km)


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing every point within ``radius_km``.

    Slightly generous (spherical approximation plus 1%) so the exact geodesic check afterwards
    never misses a point that is really inside the radius.
    """
    d_lat = radius_km * 1.01 / EARTH_KM_PER_DEG_LAT
    cos_lat = max(math.cos(math.radians(min(abs(lat) + d_lat, 89.9))), 1e-6)
    d_lon = radius_km * 1.01 / (111.320 * cos_lat)
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon
