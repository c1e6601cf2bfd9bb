"""THE PEER: pouchdb-server + PouchDB, installed from npm at run time, outside the repository.

``package.json`` and ``package-lock.json`` pin the versions; ``npm ci`` installs them into a cache
directory (``$FIELDSYNC_BENCH_CACHE/peer``, default ``~/.cache/fieldsync-bench/peer``) the first
time, and again only when the lockfile changes. ``pouchdb-server`` runs on a free loopback port
with a LevelDB backend in a scratch directory; ``pouch_bench.js`` drives it with PouchDB (memory
adapter on the client side) and writes its raw samples as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from process import ServerProcess, free_port, running

HERE = Path(__file__).resolve().parent
INSTALL_TIMEOUT_S = 600


def cache_dir() -> Path:
    base = os.environ.get("FIELDSYNC_BENCH_CACHE") or Path.home() / ".cache" / "fieldsync-bench"
    return Path(base) / "peer"


def available() -> str | None:
    """Why the peer cannot run here, or None."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def install(log: Path) -> Path:
    """node_modules of the pinned packages (installed once per lockfile); returns its path."""
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "package-lock.json").read_bytes()
    want = hashlib.sha256(lock + (HERE / "package.json").read_bytes()).hexdigest()
    stamp = target / ".installed"
    modules = target / "node_modules"
    if stamp.exists() and stamp.read_text() == want and (modules / "pouchdb-server").is_dir():
        return modules
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, target / name)
    print(f"bench: installing the peer (pouchdb-server, PouchDB) into {target} ...", flush=True)
    with open(log, "ab") as out:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
            cwd=target,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    stamp.write_text(want)
    return modules


def run_peer(
    out_dir: Path,
    *,
    reps: int,
    warmup: int,
    n_docs: int,
    n_changed: int,
    n_push: int,
    bulk_batch: int,
    batches: list[int],
) -> dict[str, Any]:
    """Raw samples per replication batch size: ``{"100": {"runs": ...}, ...}``."""
    modules = install(out_dir / "peer-npm.log")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fieldsync-bench-peer-") as scratch:
        data = Path(scratch)
        port = free_port()
        server = ServerProcess(
            "pouchdb-server",
            [
                "node",
                str(modules / "pouchdb-server" / "bin" / "pouchdb-server"),
                "-o",
                "127.0.0.1",
                "-p",
                str(port),
                "-d",
                str(data),
                "-c",
                str(data / "config.json"),
                "-n",
                "--no-color",
            ],
            env={**os.environ, "NODE_PATH": str(modules)},
            cwd=data,
            port=port,
            ready_path="/",
            log=out_dir / "peer-server.log",
        )
        with running(server):
            for batch in batches:
                out_json = data / f"peer_b{batch}.json"
                env = {
                    **os.environ,
                    "NODE_PATH": str(modules),
                    "POUCH_URL": server.url,
                    "SERVER_PID": str(server.pid),
                    "OUT_JSON": str(out_json),
                    "REPS": str(reps),
                    "WARMUP": str(warmup),
                    "N_DOCS": str(n_docs),
                    "BULK_BATCH": str(bulk_batch),
                    "N_CHANGED": str(n_changed),
                    "N_PUSH": str(n_push),
                    "REPL_BATCH": str(batch),
                    "CLIENT_ADAPTER": "memory",
                }
                subprocess.run(  # noqa: S603
                    ["node", str(HERE / "pouch_bench.js")],  # noqa: S607
                    cwd=data,
                    env=env,
                    check=True,
                    timeout=60 * (reps + warmup) + 60,
                )
                results[str(batch)] = json.loads(out_json.read_text())
        versions = json.loads((modules / "pouchdb-server" / "package.json").read_text())
        pouch = json.loads((modules / "pouchdb" / "package.json").read_text())
        results["versions"] = {"pouchdb-server": versions["version"], "pouchdb": pouch["version"]}
    return results
