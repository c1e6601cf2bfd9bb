"""Deterministic field-service document generator; byte-identical to docgen.js."""

from __future__ import annotations

import json

TARGET_BYTES = 300
FILLER = (
    "Customer reports intermittent fault; check wiring, replace filter, "
    "log meter reading and photograph the unit before and after service. "
)
STATUSES = ["scheduled", "dispatched", "in_progress", "on_hold", "completed"]
CATEGORIES = ["filters", "valves", "pumps", "sensors", "fasteners", "seals"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Georgetown"]


def _ts(i: int, version: int) -> str:
    return f"2025-03-{1 + i % 28:02d}T{8 + i % 10:02d}:{(i * 7 + version) % 60:02d}:00Z"


def _dumps(d: dict) -> str:
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def make_doc(i: int, v: int = 1, prefix: str = "") -> dict:
    k = i % 10
    if k < 5:
        d = {
            "_id": f"{prefix}job:{i:08d}",
            "type": "job",
            "tenant": "t01",
            "customer_id": f"cust:{i % 997:05d}",
            "site": {
                "name": f"Site {i % 997}",
                "city": CITIES[i % len(CITIES)],
                "lat_e6": 40000000 + (i * 37) % 1000000,
                "lon_e6": -89000000 - (i * 53) % 1000000,
            },
            "status": STATUSES[(i + v) % len(STATUSES)],
            "priority": 1 + i % 4,
            "technician_id": f"tech:{i % 53:03d}",
            "scheduled_for": _ts(i, 0),
            "title": f"Service visit {i} unit {i % 211}",
        }
    elif k < 8:
        d = {
            "_id": f"{prefix}part:{i:08d}",
            "type": "part",
            "tenant": "t01",
            "sku": f"SKU-{i % 100000:06d}",
            "name": f"{CATEGORIES[i % len(CATEGORIES)]} item {i % 389}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "unit": "ea",
            "price_cents": 199 + (i * 31) % 50000,
            "supplier_id": f"sup:{i % 41:04d}",
            "compatible_models": [f"M-{i % 17}", f"M-{(i + 5) % 17}"],
        }
    else:
        d = {
            "_id": f"{prefix}stock:{i:08d}",
            "type": "stock",
            "tenant": "t01",
            "part_id": f"part:{i - 3:08d}",
            "location_id": f"van:{i % 53:03d}",
            "qty_on_hand": (i * 13 + v) % 40,
            "qty_reserved": (i + v) % 3,
            "min_qty": 2,
            "bin": f"A-{i % 20:02d}-{i % 5}",
        }
    d["updated_at"] = _ts(i, v)
    d["version"] = v
    d["notes"] = ""
    need = max(0, TARGET_BYTES - len(_dumps(d)))
    s = FILLER * (need // len(FILLER) + 1)
    d["notes"] = s[:need]
    return d


def make_docs(n: int, v: int = 1, prefix: str = "", start: int = 0) -> list[dict]:
    return [make_doc(start + j, v, prefix) for j in range(n)]


if __name__ == "__main__":
    import hashlib

    docs = make_docs(10000)
    blob = "\n".join(_dumps(d) for d in docs)
    sizes = [len(_dumps(d)) for d in docs]
    print(
        json.dumps(
            {
                "n": len(docs),
                "sha256": hashlib.sha256(blob.encode()).hexdigest(),
                "min_bytes": min(sizes),
                "max_bytes": max(sizes),
                "mean_bytes": sum(sizes) / len(sizes),
            }
        )
    )
