"""Which landing files are new since the last look (the landing-folder sensor's cursor)."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.sources import TABLES_BY_SOURCE


def file_signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def scan_landing(landing_root: Path, sources: list[str]) -> dict[str, str]:
    """Every loadable file under <landing_root>/<source>/ with its size and modification time."""
    found: dict[str, str] = {}
    for source in sources:
        folder = landing_root / source
        if not folder.is_dir():
            continue
        for table in TABLES_BY_SOURCE[source]:
            for pattern in table.patterns:
                for path in folder.glob(pattern):
                    if path.is_file() and not path.name.startswith("."):
                        found[str(path.relative_to(landing_root))] = file_signature(path)
    return found


def new_files(landing_root: Path, sources: list[str], cursor: str | None) -> tuple[list[str], str]:
    """Files that appeared or changed since `cursor`; returns them and the next cursor."""
    seen = json.loads(cursor) if cursor else {}
    current = scan_landing(landing_root, sources)
    changed = sorted(name for name, signature in current.items() if seen.get(name) != signature)
    return changed, json.dumps(current, sort_keys=True)
