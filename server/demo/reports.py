"""Repair reports (version 1, sometimes 2), the customer's signature and sign-off links.

A signature is bound to the SHA-256 of the exact report content it signed: the sync engine's
canonical report hash (``sync.canonical.report_hash``), the same one devices compute.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from server.demo import texts
from server.demo.context import Context
from server.demo.texts import Scenario
from server.demo.writer import Writer
from sync.canonical import report_hash

SIGNED = 0.92  # share of completed reports the customer signed
BY_LINK = 0.15  # of those, signed later through a one-time link instead of on the device
SECOND_VERSION = 0.10


class Filed(NamedTuple):
    report_id: UUID
    signed_at: datetime | None


def file_report(
    ctx: Context,
    out: Writer,
    *,
    job_id: UUID,
    author: UUID,
    scenario: Scenario,
    used: list[str],
    parts: list[dict[str, object]],
    labour: int,
    done_at: datetime,
    signer: str,
) -> Filed:
    """Write the report version(s) submitted just before ``done_at`` and the sign-off."""
    rng = ctx.rng
    actions = scenario.actions + (texts.PARTS_USED.format(parts="、".join(used)) if used else "")
    versions = 2 if rng.random() < SECOND_VERSION else 1
    report_id = ctx.uuid(done_at)
    version_id = report_id
    content = ""
    for version in range(1, versions + 1):
        submitted = done_at - timedelta(minutes=4 + 8 * (versions - version))
        if version == 2:
            actions += texts.REVISION
            labour += 15
        fields: dict[str, object] = {
            "report_id": str(report_id),
            "job_id": str(job_id),
            "diagnosis": scenario.diagnosis,
            "root_cause_category": scenario.category,
            "root_cause": scenario.root_cause,
            "prevention": scenario.prevention,
            "actions": actions,
            "labour_minutes": labour,
            "parts": parts,
        }
        content = report_hash(fields)
        version_id = report_id if version == 1 else ctx.uuid(submitted)
        signed = version == versions and rng.random() < SIGNED
        out.add(
            "work_reports",
            {
                **fields,
                "id": version_id,
                "report_id": report_id,
                "version": version,
                "job_id": job_id,
                "author_id": author,
                "content_sha256": content,
                "signed": signed,
                "submitted_at": submitted,
                "received_at": ctx.received(submitted),
            },
        )
    if not signed:
        if rng.random() < 0.5:  # a link was sent and is still waiting for the customer
            _link(ctx, out, version_id, author, done_at, None)
        return Filed(version_id, None)
    if rng.random() < BY_LINK:
        signed_at = done_at + ctx.hours(1, 30)
        signed_at = min(signed_at, ctx.now)
        _link(ctx, out, version_id, author, done_at, signed_at)
        channel, received = "link", signed_at
    else:
        signed_at = done_at - timedelta(minutes=2)
        channel, received = "device", ctx.received(signed_at)
    out.add(
        "signatures",
        {
            "id": ctx.uuid(signed_at),
            "report_id": version_id,
            "signer_name": signer,
            "image_sha256": hashlib.sha256(f"signature:{version_id}".encode()).hexdigest(),
            "report_sha256": content,
            "signed_at": signed_at,
            "received_at": received,
            "channel": channel,
        },
    )
    return Filed(version_id, signed_at)


def _link(
    ctx: Context,
    out: Writer,
    report_id: UUID,
    author: UUID,
    created: datetime,
    used: datetime | None,
) -> None:
    token = ctx.rng.getrandbits(256).to_bytes(32, "big")
    out.add(
        "signoff_links",
        {
            "id": ctx.uuid(created),
            "token_hash": hashlib.sha256(token).hexdigest(),
            "report_id": report_id,
            "created_by": author,
            "created_at": created,
            "expires_at": created + timedelta(hours=72),
            "used_at": used,
        },
    )
