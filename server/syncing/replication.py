"""Keeping every engineer's replica log equal to their scope as the database changes.

The rule that must stay true: *when a transaction that changed synced data commits, the replica
logs it wrote are already up to date.* To make that hard to forget:

1. ORM flushes record the document keys of every synced row they insert, update or delete
   (``_KEY_OF``); code that changes rows with Core statements calls :func:`touch` itself.
2. :func:`commit` (use it instead of ``session.commit()`` wherever synced data changes) runs
   :func:`replicate` and commits; the sync push path runs :func:`replicate` in its transaction.
3. A ``before_commit`` guard refuses to commit a session that still has unreplicated keys.

:func:`replicate` re-renders each touched document once and writes it to the replicas that hold
it or must hold it (:func:`server.syncing.scope.audience`), a remove to those that must no longer
hold it; when a job enters or leaves an engineer's scope, that engineer's whole scope is
recomputed (:func:`reconcile`), which brings or drops the job's customer, site, asset, history
and articles; so is the scope of every other engineer working on the asset of a job that is
completed (its service history joins theirs, and may push an older entry out). A replica is
built on the engineer's first pull; until then nothing is written for them (``ReplicaHorizon``
rows mark built replicas).

Replica maintenance runs one transaction at a time: :func:`replicate` (and a first build) reads
scopes, holders and built replicas only once it holds the replica-log lock
(:func:`server.database.advisory_lock`, held until commit), so it sees every earlier
maintainer's commit. On SQLite writers are one at a time anyway; on PostgreSQL, READ COMMITTED
without the lock let two transactions each compute scopes from a state missing the other's
uncommitted change — a first build racing a reassignment, or an engineer's two jobs on one
asset reassigned away at once — and leave documents out of scope in a log for good. The rest of
each transaction (its business reads and writes, its flush) still runs concurrently.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any
from uuid import UUID

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.customers.models import Asset, Customer, Site
from server.database import advisory_lock, begin_write, in_chunks, in_list
from server.inventory.models import Part, PartRequest, StockLevel, StockLocation
from server.jobs.models import Job
from server.knowledge.models import KnowledgeArticle
from server.reports.models import WorkReport
from server.syncing.documents import render
from server.syncing.models import ReplicaChange, ReplicaHorizon
from server.syncing.scope import audience, history_readers, scope_keys
from server.syncing.store import ChangeRow, SqlTx
from sync.changes import encode_remove
from sync.kinds import split_key

TOUCHED = "fieldsync_touched"
LOGS_LOCK = "fieldsync:replica-logs"  # the advisory lock replica maintenance runs under

_KEY_OF: dict[type, Callable[[Any], list[str]]] = {
    Job: lambda o: [f"job:{o.id}", f"service_history:{o.id}"],
    Customer: lambda o: [f"customer:{o.id}"],
    Site: lambda o: [f"site:{o.id}"],
    Asset: lambda o: [f"asset:{o.id}"],
    # A signature always flips its version's ``signed`` flag, which touches the report.
    WorkReport: lambda o: [f"report:{o.report_id}", f"service_history:{o.job_id}"],
    Part: lambda o: [f"part:{o.id}"],
    StockLevel: lambda o: [f"stock:{o.location_id}/{o.part_id}"],
    StockLocation: lambda o: [f"location:{o.id}"],
    KnowledgeArticle: lambda o: [f"article:{o.id}"],
    PartRequest: lambda o: [f"part_request:{o.id}"],
    User: lambda o: [f"user:{o.id}"],
}


class UnreplicatedChanges(RuntimeError):
    """Synced rows changed but the session was committed without :func:`replicate`."""


def touch(db: AsyncSession | Session, *keys: str) -> None:
    """Mark documents changed by Core statements that ORM flush tracking cannot see."""
    db.info.setdefault(TOUCHED, set()).update(keys)


@event.listens_for(Session, "after_flush")
def _record_touched(session: Session, _context: Any) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        key_of = _KEY_OF.get(type(obj))
        if key_of is not None:
            touch(session, *key_of(obj))


@event.listens_for(Session, "before_commit")
def _refuse_unreplicated(session: Session) -> None:
    if session.in_nested_transaction():
        return  # releasing a savepoint; the outer commit is what must be replicated
    session.flush()
    if session.info.get(TOUCHED):
        keys = sorted(session.info.pop(TOUCHED))
        raise UnreplicatedChanges(f"commit without replicate() after changing {keys[:5]}")


async def commit(db: AsyncSession) -> None:
    """Replicate what this unit of work changed, then commit — the one way to save synced data."""
    await replicate(db)
    await db.commit()


_BUILT = select(ReplicaHorizon.user_id)
_HOLDERS = select(ReplicaChange.doc_key, ReplicaChange.user_id, ReplicaChange.change).where(
    ReplicaChange.doc_key.in_(in_list()), ReplicaChange.op == "put"
)


async def built_replicas(db: AsyncSession) -> set[str]:
    return set((await db.execute(_BUILT)).scalars())


async def replicate(db: AsyncSession) -> None:
    await db.flush()
    keys = sorted(db.info.pop(TOUCHED, set()))
    if not keys:
        return
    await advisory_lock(db, LOGS_LOCK)  # before any read below (module docstring)
    built = await built_replicas(db)
    wanted = await audience(db, keys)
    held: dict[str, dict[str, bytes]] = {k: {} for k in keys}
    for chunk in in_chunks(keys):
        for row in await db.execute(_HOLDERS, {"ids": list(chunk)}):
            held[row.doc_key][row.user_id] = row.change
    rendered = await render(db, keys)
    # A completed job's history belongs to the newest few of every engineer working on its
    # asset; who exactly depends on each one's own jobs, so those who lack it are reconciled.
    history = [UUID(split_key(k)[1]) for k in keys if k.startswith("service_history:")]
    readers = {f"service_history:{j}": u for j, u in (await history_readers(db, history)).items()}
    writes: list[ChangeRow] = []
    rescope: set[str] = set()
    for key in keys:
        holders = held[key]
        change = rendered[key]
        gone = not change.startswith(b'{"op":"put"')
        rule = wanted[key]
        target = set() if gone else (rule if rule is not None else set(holders)) & built
        writes += [(u, key, "put", change) for u in sorted(target) if holders.get(u) != change]
        writes += [(u, key, "remove", _remove(key)) for u in sorted(set(holders) - target)]
        if key.startswith("job:") and target != set(holders):
            rescope |= target ^ set(holders)
        elif key.startswith("service_history:"):
            # not (or no longer) completed: whoever holds it must drop it, maybe for another
            rescope |= (readers[key] & built) - set(holders) if key in readers else target
    await SqlTx(db).write_changes(writes)
    for user_id in sorted(rescope):
        await reconcile(db, user_id)
    db.info.pop(TOUCHED, None)


def _remove(key: str) -> bytes:
    return encode_remove(*split_key(key))


async def reconcile(db: AsyncSession, user_id: str) -> int:
    """Make the user's log hold exactly their scope: puts for what is missing, removes for what
    left. Builds the replica the first time. Returns the number of changes written. The caller
    holds the replica-log lock (``LOGS_LOCK``)."""
    desired = await scope_keys(db, user_id)
    rows = await db.execute(
        select(ReplicaChange.doc_key).where(
            ReplicaChange.user_id == user_id, ReplicaChange.op == "put"
        )
    )
    current = set(rows.scalars())
    missing = sorted(desired - current)
    rendered = await render(db, missing)
    writes: list[ChangeRow] = [
        (user_id, key, "put", rendered[key])
        for key in missing
        if rendered[key].startswith(b'{"op":"put"')
    ]
    writes += [(user_id, key, "remove", _remove(key)) for key in sorted(current - desired)]
    tx = SqlTx(db)
    await tx.write_changes(writes)
    await tx.mark_built(user_id)
    return len(writes)


async def ensure_replica(
    sessions: async_sessionmaker[AsyncSession], user_id: str, built: set[str] | None = None
) -> None:
    """Build the user's replica log on first use (their first pull), in its own transaction.

    ``built`` remembers, for the life of the process, users whose replica is known to exist:
    a replica is never dropped once built, so later pulls skip the lookup (and its
    transaction) entirely."""
    if built is not None and user_id in built:
        return
    async with sessions() as db:
        exists = await db.get(ReplicaHorizon, user_id) is not None
    if not exists:
        async with sessions() as db:
            await begin_write(db)
            await advisory_lock(db, LOGS_LOCK)
            await reconcile(db, user_id)
            await commit(db)
    if built is not None:
        built.add(user_id)
