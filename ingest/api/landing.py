"""Landing files for fetched pages: one file per page, named by content, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def landing_name(entity: str, content: bytes) -> str:
    """`api_<entity>_<sha256 prefix>.json`: re-fetching an identical page overwrites the same file."""
    return f"api_{entity}_{hashlib.sha256(content).hexdigest()[:20]}.json"


def write_atomic(path: Path, content: bytes) -> Path:
    """Write `content` to `path` via a temp file in the same folder + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp name starts with a dot and ends in .tmp so the loader's `*.json` globs never pick it up.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
