"""Static checks of the PWA (fast, no browser): the service worker precaches exactly the module
graph of the app, its cache version follows the shell's content, the import map and manifest
point at files that exist, and every string key the code uses exists in both languages."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parents[2] / "pwa"
IN_CI = os.environ.get("CI", "").lower() == "true"
_IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]""")
_BARE_IMPORT = re.compile(r"""import\s*\{[^}]*\}\s*from\s*["']([^"']+)["']|from"([^"]+)\"""")


def _sw() -> str:
    return (PWA / "sw.js").read_text()


def _shell() -> list[str]:
    block = re.search(r"const SHELL = \[(.*?)\];", _sw(), re.S)
    assert block, "sw.js has no SHELL list"
    return re.findall(r"'([^']+)'", block.group(1))


def _import_map(html: str) -> dict[str, str]:
    block = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert block, "no import map"
    imports: dict[str, str] = json.loads(block.group(1))["imports"]
    return imports


def _graph(entry: str, imports: dict[str, str]) -> set[str]:
    """URL paths of every module reachable from ``entry`` by static imports."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        text = (PWA / url.lstrip("/")).read_text()
        specs = _IMPORT.findall(text) + [a or b for a, b in _BARE_IMPORT.findall(text)]
        for spec in specs:
            if spec.startswith("."):
                base = url.rsplit("/", 1)[0]
                parts: list[str] = []
                for piece in f"{base}/{spec}".split("/"):
                    if piece == "..":
                        parts.pop()
                    elif piece not in ("", "."):
                        parts.append(piece)
                todo.append("/" + "/".join(parts))
            else:
                assert spec in imports, f"{url} imports {spec!r}, which the import map lacks"
                todo.append(imports[spec])
    return seen


def shell_version(shell: list[str]) -> str:
    digest = hashlib.sha256()
    for url in shell:
        digest.update(url.encode() + b"\0" + (PWA / url.lstrip("/")).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def test_service_worker_precaches_the_whole_app_shell() -> None:
    shell = _shell()
    html = (PWA / "index.html").read_text()
    imports = _import_map(html)
    for target in imports.values():
        assert (PWA / target.lstrip("/")).is_file(), f"import map target {target} is missing"
    modules = _graph("/src/app.js", imports)
    assert {u for u in shell if u.endswith((".js", ".mjs"))} == modules
    for url in shell:
        assert (PWA / url.lstrip("/")).is_file(), f"{url} is precached but missing"
    assert "/index.html" in shell and "/styles.css" in shell and "/manifest.webmanifest" in shell
    # The customer link page's modules exist and resolve through its own import map.
    signoff = (PWA / "signoff.html").read_text()
    assert _graph("/src/signoff-page.js", _import_map(signoff))


def test_cache_version_follows_the_shell_content() -> None:
    version = re.search(r"const VERSION = '([0-9a-f]+)';", _sw())
    assert version, "sw.js has no VERSION"
    want = shell_version(_shell())
    assert version.group(1) == want, (
        f"the app shell changed: set VERSION = '{want}' in pwa/sw.js so that installed apps "
        "fetch the new shell and show the update prompt"
    )


def test_manifest_makes_the_app_installable() -> None:
    manifest = json.loads((PWA / "manifest.webmanifest").read_text())
    assert manifest["name"] and manifest["short_name"]
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        data = (PWA / icon["src"].lstrip("/")).read_bytes()
        if icon["type"] == "image/png":
            assert data.startswith(b"\x89PNG")
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert f"{width}x{height}" == icon["sizes"]


def test_every_string_key_exists_in_both_languages() -> None:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is required in CI")
        pytest.skip("node is not installed")
    out = subprocess.run(
        [
            node,
            "--input-type=module",
            "-e",
            "const m = await import(process.argv[1]);"
            "process.stdout.write(JSON.stringify({en: m.EN, zh: m.ZH}))",
            (PWA / "src" / "strings.js").as_uri(),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    dicts = json.loads(out.stdout)
    assert set(dicts["en"]) == set(dicts["zh"]), set(dicts["en"]) ^ set(dicts["zh"])
    for lang, table in dicts.items():
        empty = [k for k, v in table.items() if not v.strip()]
        assert not empty, (lang, empty)
        for key, text in table.items():
            holes = set(re.findall(r"\{(\w+)\}", text))
            other = dicts["zh" if lang == "en" else "en"][key]
            assert holes == set(re.findall(r"\{(\w+)\}", other)), (key, text, other)
    used: set[str] = set()
    for path in (PWA / "src").rglob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*'([a-z0-9_.]+)'""", path.read_text()))
    missing = sorted(k for k in used if k not in dicts["en"])
    assert not missing, f"keys used but not translated: {missing}"
