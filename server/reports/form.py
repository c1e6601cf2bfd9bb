"""The exact report content a customer's signature is bound to, rebuilt from a stored version.

Devices hash the report they show the customer with ``sync.canonical.report_hash``; the server
rebuilds the same form from the stored row and compares. Anything that changes this mapping
breaks every stored signature's verification, so it only ever grows with a schema bump.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from sync.canonical import report_hash


class StoredReport(Protocol):
    report_id: UUID
    job_id: UUID
    diagnosis: str
    root_cause_category: str
    root_cause: str
    prevention: str
    actions: str
    labour_minutes: int
    parts: list[dict[str, Any]]


def report_form(report: StoredReport) -> dict[str, Any]:
    return {
        "report_id": str(report.report_id),
        "job_id": str(report.job_id),
        "diagnosis": report.diagnosis,
        "root_cause_category": report.root_cause_category,
        "root_cause": report.root_cause,
        "prevention": report.prevention,
        "actions": report.actions,
        "labour_minutes": report.labour_minutes,
        "parts": [{"part_id": p["part_id"], "qty": p["qty"]} for p in report.parts],
    }


def stored_report_hash(report: StoredReport) -> str:
    return report_hash(report_form(report))
