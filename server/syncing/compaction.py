"""Replica-log compaction: removes older than the retention window are purged.

Puts never need purging — a document's row is replaced in place when it changes — so the log
stays the size of the scopes plus recent removes. Purging a remove raises that user's horizon;
a device whose cursor is older gets ``reset_required`` and re-syncs after pushing its outbox
(PROTOCOL.md §2.5), so compaction can never make a device miss a delete.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from server.syncing.store import SqlStore

log = logging.getLogger("fieldsync.compaction")


async def compact(store: SqlStore, retention_days: int, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    async with store.transaction() as tx:
        purged = await tx.purge_removes(cutoff)
    if purged:
        log.info("purged %d remove changes older than %s", purged, cutoff.isoformat())
    return purged


async def run_periodically(store: SqlStore, retention_days: int, every_minutes: int) -> None:
    """The server's background loop; a failed round is logged and retried next round."""
    while True:
        await asyncio.sleep(every_minutes * 60)
        try:
            await compact(store, retention_days)
        except Exception:  # a database outage must not kill the loop; the next round retries
            log.exception("replica compaction failed; retrying in %d minutes", every_minutes)
