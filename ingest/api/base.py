"""What every connector shares: the result type, the page writer and timestamp helpers."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from .http import REDACTED
from .landing import landing_name, write_atomic
from .settings import ApiSettings

logger = logging.getLogger(__name__)

_ACCESS_TOKEN_RE = re.compile(rb"(access_token=)[^&\s\"'#\\]*")


@dataclass
class FetchResult:
    """What one `fetch` produced. Persist `new_cursor` only after `files` are loaded."""

    source: str  # 'shopify' | 'amazon' | 'ebay' | 'meta_ads'
    files: list[Path]  # landing files written, in fetch order, one per non-empty page
    new_cursor: dict | None  # None: keep the stored cursor
    complete: bool  # False: the fetch stopped early (an error after retries)
    error: str | None  # why, when complete is False
    pages: int  # pages fetched successfully (empty pages are counted but not written)
    records: int  # records in those pages


@dataclass
class Context:
    """Inputs of one fetch run."""

    client: httpx.Client
    settings: ApiSettings
    landing_dir: Path
    now: datetime


def scrub(content: bytes, secrets: Iterable[str]) -> bytes:
    """Remove tokens from a body before it is written (Meta echoes `access_token` in `paging.next`)."""
    out = _ACCESS_TOKEN_RE.sub(rb"\1" + REDACTED.encode(), content)
    for secret in secrets:
        if secret and len(secret) >= 8:
            out = out.replace(secret.encode(), REDACTED.encode())
    return out


@dataclass
class Run:
    """One fetch in progress: writes each page to `<landing_dir>/<source>/` and counts it."""

    source: str
    entity: str
    landing_dir: Path
    secrets: Callable[[], Iterable[str]] = lambda: ()
    files: list[Path] = field(default_factory=list)
    pages: int = 0
    records: int = 0

    def save_page(self, content: bytes, records: int) -> Path | None:
        """Write one page body (native shape, tokens scrubbed); empty pages are counted, not written."""
        self.pages += 1
        self.records += records
        if records == 0:
            logger.info("%s: page %d is empty, nothing written", self.source, self.pages)
            return None
        content = scrub(content, self.secrets())
        path = write_atomic(self.landing_dir / self.source / landing_name(self.entity, content), content)
        if path not in self.files:
            self.files.append(path)
        logger.info("%s: page %d, %d records -> %s", self.source, self.pages, records, path.name)
        return path

    def result(self, *, new_cursor: dict | None, error: str | None = None) -> FetchResult:
        complete = error is None
        log = logger.info if complete else logger.error
        log(
            "%s: %s after %d pages, %d records, %d files%s",
            self.source,
            "complete" if complete else "stopped early",
            self.pages,
            self.records,
            len(self.files),
            "" if complete else f": {error}",
        )
        return FetchResult(
            source=self.source,
            files=list(self.files),
            new_cursor=new_cursor,
            complete=complete,
            error=error,
            pages=self.pages,
            records=self.records,
        )


def parse_ts(value: object) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive values taken as UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def latest(values: Iterable[object], floor: str | None = None) -> str | None:
    """The latest timestamp string among `values` (as the platform wrote it) if later than `floor`."""
    best, best_at = None, parse_ts(floor)
    for value in values:
        at = parse_ts(value)
        if at is not None and (best_at is None or at > best_at):
            best, best_at = value, at
    return best if isinstance(best, str) else None


def iso_z(moment: datetime, *, millis: bool = False) -> str:
    """UTC ISO 8601 with a Z suffix, e.g. 2025-03-04T10:22:01Z (or ...01.000Z)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}" if millis else "") + "Z"
