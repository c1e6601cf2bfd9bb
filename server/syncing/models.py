"""Sync state: devices, per-user replica logs, operation records and content-addressed blobs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import DefaultBase as Base
from advanced_alchemy.base import UUIDBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, Sequence, String
from sqlalchemy.orm import Mapped, mapped_column


class Device(UUIDBase):
    """A client install; ``id`` is the UUID the device generated for itself."""

    __tablename__ = "devices"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


# PostgreSQL's position counter; SQLite has no sequences and uses ``SyncCounter`` instead.
REPLICA_SEQ = Sequence("replica_seq", metadata=Base.metadata)


class ReplicaChange(Base):
    """One user's replica log: the latest change per document, ordered by ``(txid, seq)``.

    Writing a document again replaces its row at a new, higher position, so the log compacts
    itself (like CouchDB's by-seq index). ``txid`` is the writer's PostgreSQL transaction id
    (0 on SQLite): readers only return rows whose ``txid`` is below the oldest transaction still
    running, so a change that commits late can never be skipped by a cursor that moved past it.
    """

    __tablename__ = "replica_changes"
    __table_args__ = (
        Index("ix_replica_changes_user_position", "user_id", "txid", "seq"),
        Index("ix_replica_changes_doc_key", "doc_key"),
    )

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(220), primary_key=True)
    op: Mapped[str] = mapped_column(String(8))
    change: Mapped[bytes] = mapped_column(LargeBinary)
    txid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    written_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class ReplicaHorizon(Base):
    """The newest position purged from a user's log: older cursors must reset."""

    __tablename__ = "replica_horizons"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SyncCounter(Base):
    """Position counter for SQLite (PostgreSQL uses the ``replica_seq`` sequence)."""

    __tablename__ = "sync_counters"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class OperationRecord(Base):
    """What the server did with one pushed operation, stored with it, to answer replays."""

    __tablename__ = "sync_operations"

    device_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    op_id: Mapped[UUID] = mapped_column(GUID, index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    # A rejected operation's JSON, kept so nothing a device sent is lost (reviewed by staff).
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class BlobRecord(Base):
    """A content-addressed file (signature image, photo): the key is its SHA-256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTimeUTC)
