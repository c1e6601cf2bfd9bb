"""Blob uploads: validated, content-addressed, idempotent."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from sync.blobs import MAX_BLOB_BYTES, missing_blobs, pending_flags, put_blob, sniff
from sync.errors import BadRequest, BlobHashMismatch, BlobTypeInvalid, PayloadTooLarge
from sync.memory import MemoryStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.mark.parametrize(
    ("data", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")]
)
async def test_put_is_idempotent(store: MemoryStore, data: bytes, kind: str) -> None:
    assert await put_blob(store, sha(data), kind, data) is True
    assert await put_blob(store, sha(data), kind + "; q=1", data) is False
    async with store.transaction(write=False) as tx:
        blob = await tx.get_blob(sha(data))
    assert blob is not None and (blob.content_type, blob.data) == (kind, data)


async def test_hash_must_match(store: MemoryStore) -> None:
    with pytest.raises(BlobHashMismatch) as caught:
        await put_blob(store, sha(JPEG), "image/png", PNG)
    assert caught.value.status == 400 and caught.value.extra["actual"] == sha(PNG)


@pytest.mark.parametrize("name", ["", "A" * 64, "a" * 63, "g" * 64, "../" + "a" * 61])
async def test_hash_must_be_lower_hex(store: MemoryStore, name: str) -> None:
    with pytest.raises(BadRequest):
        await put_blob(store, name, "image/png", PNG)


@pytest.mark.parametrize(
    ("kind", "data"),
    [("image/gif", PNG), ("image/png", JPEG), ("text/plain", PNG), ("image/webp", b"RIFF")],
)
async def test_type_must_be_declared_and_true(store: MemoryStore, kind: str, data: bytes) -> None:
    with pytest.raises(BlobTypeInvalid) as caught:
        await put_blob(store, sha(data), kind, data)
    assert caught.value.status == 415


async def test_size_is_bounded(store: MemoryStore) -> None:
    data = PNG + b"\x00" * MAX_BLOB_BYTES
    with pytest.raises(PayloadTooLarge):
        await put_blob(store, sha(data), "image/png", data)


async def test_missing_lists_unknown_hashes_in_order(store: MemoryStore) -> None:
    await put_blob(store, sha(PNG), "image/png", PNG)
    body = msgspec.json.encode({"hashes": [sha(JPEG), sha(PNG), sha(WEBP), sha(JPEG)]})
    assert msgspec.json.decode(await missing_blobs(store, body)) == {
        "missing": [sha(JPEG), sha(WEBP)]
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"hashes":["nope"]}', BadRequest),
        (b'{"hashes":[],"x":1}', BadRequest),
        (b"[]", BadRequest),
        (msgspec.json.encode({"hashes": ["a" * 64] * 1001}), PayloadTooLarge),
    ],
)
async def test_missing_validates(store: MemoryStore, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        await missing_blobs(store, body)


async def test_pending_flags(store: MemoryStore) -> None:
    await put_blob(store, sha(PNG), "image/png", PNG)
    async with store.transaction(write=False) as tx:
        assert await pending_flags(tx, [sha(PNG)]) == ()
        assert await pending_flags(tx, [sha(PNG), sha(JPEG)]) == ("pending_blob",)
        assert await pending_flags(tx, []) == ()


def test_sniff() -> None:
    assert [sniff(d) for d in (PNG, JPEG, WEBP, b"GIF89a")] == [
        "image/png",
        "image/jpeg",
        "image/webp",
        None,
    ]
