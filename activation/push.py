"""Optional API push of published audiences (off by default).

Meta Custom Audience users API
    ``POST {graph_url}/{api_version}/{audience_id}/users`` with form fields ``payload``
    (JSON ``{"schema": [...], "data": [[...], ...]}``), ``session`` (JSON ``{session_id,
    batch_seq, last_batch_flag, estimated_num_total}``) and ``access_token``. At most
    10,000 rows per call. The multi-key schema uses Meta's key names
    ``EMAIL, PHONE, FN, LN, CT, ST, ZIP, COUNTRY, EXTERN_ID`` with the values already
    normalised and SHA-256 hashed in ``meta.csv`` (``EMAIL_SHA256`` is the single-key
    spelling; multi-key uses the bare names). The token travels in the form body, never
    in the URL, so it cannot leak through access or client logs.

Klaviyo Bulk Import Profiles
    ``POST {base_url}/api/profile-bulk-import-jobs`` (JSON:API, header ``revision``,
    ``Authorization: Klaviyo-API-Key ...``), up to 10,000 profiles and 5 MB per job, with
    ``relationships.lists`` adding the profiles to the audience's list. We use the import
    job rather than "subscribe profiles" on purpose: it upserts and adds to a list without
    asserting consent, and only ``email_consent == subscribed`` customers are in the file.

Google Customer Match is not pushed (the Ads API needs OAuth, a developer token and
offline user-data jobs); upload ``google.csv`` in the Google Ads UI.

Reliability: 429 (honouring ``Retry-After``), 5xx, Meta's transient/throttling error
codes and transport errors are retried with exponential backoff (stamina). Each batch is
keyed by the SHA-256 of its content; a JSON state file records the batches that
succeeded, so a re-run after a partial failure sends only the missing batches. Both
endpoints upsert, so a retried request that had in fact landed does no harm.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import stamina
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "META_SCHEMA",
    "BatchOutcome",
    "KlaviyoPushConfig",
    "MetaPushConfig",
    "PushConfig",
    "PushError",
    "PushResult",
    "RetryConfig",
    "klaviyo_profiles_from_csv",
    "meta_rows_from_csv",
    "push_export",
    "push_klaviyo_profiles",
    "push_meta_rows",
]

log = logging.getLogger(__name__)

META_SCHEMA = ["EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "EXTERN_ID"]
META_MAX_ROWS = 10_000
KLAVIYO_MAX_PROFILES = 10_000
KLAVIYO_MAX_BYTES = 5_000_000
# Graph API codes that mean "try again later" even when the HTTP status is 4xx.
_META_TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 80003, 80004}


class RetryConfig(BaseModel):
    """Backoff for 429/5xx/transport errors."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(6, ge=1, description="Total attempts per batch.")
    wait_initial: float = Field(1.0, ge=0)
    wait_max: float = Field(60.0, ge=0)
    wait_jitter: float = Field(1.0, ge=0)
    timeout: float = Field(900.0, gt=0, description="Give up on a batch after this long.")
    max_retry_after: float = Field(300.0, ge=0, description="Cap on a server's Retry-After.")


class MetaPushConfig(BaseModel):
    """Meta Custom Audience push target."""

    model_config = ConfigDict(extra="forbid")

    graph_url: str = "https://graph.facebook.com"
    api_version: str = "v25.0"
    access_token_env: str = Field("META_ACCESS_TOKEN", description="Env var with the token.")
    audience_ids: dict[str, str] = Field(default_factory=dict, description="Our audience name -> Meta custom audience id.")
    batch_size: int = Field(META_MAX_ROWS, ge=1, le=META_MAX_ROWS)


class KlaviyoPushConfig(BaseModel):
    """Klaviyo list push target."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "https://a.klaviyo.com"
    revision: str = "2026-01-15"
    api_key_env: str = Field("KLAVIYO_API_KEY", description="Env var with the private key.")
    list_ids: dict[str, str] = Field(default_factory=dict, description="Our audience name -> Klaviyo list id.")
    batch_size: int = Field(5_000, ge=1, le=KLAVIYO_MAX_PROFILES)
    max_payload_bytes: int = Field(4_500_000, ge=10_000, le=KLAVIYO_MAX_BYTES)


class PushConfig(BaseModel):
    """Optional push; nothing is sent unless ``enabled`` and a target id is configured."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    meta: MetaPushConfig = Field(default_factory=MetaPushConfig)
    klaviyo: KlaviyoPushConfig = Field(default_factory=KlaviyoPushConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    state_dir: Path | None = Field(None, description="Batch state files; default <out_root>/.push_state.")
    http_timeout_seconds: float = Field(60.0, gt=0)


class PushError(RuntimeError):
    """A push could not run or some batches failed (never carries credentials)."""


@dataclass(frozen=True)
class BatchOutcome:
    index: int
    key: str
    rows: int
    status: str  # sent | skipped | failed
    error: str | None = None


@dataclass
class PushResult:
    platform: str
    target: str
    batches: list[BatchOutcome] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for b in self.batches if b.status == status)

    @property
    def sent(self) -> int:
        return self._count("sent")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def raise_for_failures(self) -> None:
        if not self.ok:
            errors = "; ".join(f"batch {b.index}: {b.error}" for b in self.batches if b.error)
            raise PushError(f"{self.platform} {self.target}: {self.failed} batch(es) failed: {errors}")


# --------------------------------------------------------------------------- state


class _BatchState:
    """Succeeded batches by content key, persisted atomically after each success."""

    def __init__(self, path: Path, platform: str, target: str) -> None:
        self.path = path
        self.data: dict[str, Any] = {"platform": platform, "target": target, "batches": {}}
        if path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if loaded.get("platform") == platform and loaded.get("target") == target:
                self.data = loaded

    def succeeded(self, key: str) -> bool:
        return self.data["batches"].get(key, {}).get("status") == "succeeded"

    def record(self, key: str, info: dict) -> None:
        from activation.exports import atomic_write_bytes

        self.data["batches"][key] = info
        atomic_write_bytes(self.path, json.dumps(self.data, indent=2).encode("utf-8"))


# --------------------------------------------------------------------------- HTTP


class _RetryableResponse(Exception):
    def __init__(self, status: int, retry_after: float | None, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _backoff_hook(retry: RetryConfig) -> Callable[[Exception], bool | float]:
    def hook(exc: Exception) -> bool | float:
        if isinstance(exc, _RetryableResponse):
            if exc.retry_after is not None:
                return float(min(exc.retry_after, retry.max_retry_after))
            return True
        return isinstance(exc, httpx.TransportError)

    return hook


def _meta_transient(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return False
    return bool(error.get("is_transient")) or error.get("code") in _META_TRANSIENT_CODES


def _post(
    client: httpx.Client,
    url: str,
    retry: RetryConfig,
    what: str,
    transient: Callable[[httpx.Response], bool] = lambda r: False,
    **kwargs: Any,
) -> httpx.Response:
    """POST with retries; returns the final non-retryable response."""
    response: httpx.Response | None = None
    for attempt in stamina.retry_context(
        on=_backoff_hook(retry),
        attempts=retry.attempts,
        timeout=retry.timeout,
        wait_initial=retry.wait_initial,
        wait_max=retry.wait_max,
        wait_jitter=retry.wait_jitter,
    ):
        with attempt:
            response = client.post(url, **kwargs)
            status = response.status_code
            if status == 429 or status >= 500 or (400 <= status < 500 and transient(response)):
                log.warning("%s: HTTP %s, will retry if attempts remain", what, status)
                raise _RetryableResponse(status, _parse_retry_after(response.headers.get("Retry-After")), what)
    assert response is not None
    return response


def _error_text(response: httpx.Response, secret: str) -> str:
    """Short error text for results and logs, with the credential scrubbed if echoed."""
    text = response.text[:300].replace(secret, "***") if secret else response.text[:300]
    return f"HTTP {response.status_code}: {text}"


def _token(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise PushError(f"environment variable {name} is not set; cannot push")
    return value


def _key(platform: str, target: str, body: Any) -> str:
    blob = json.dumps([platform, target, body], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _client(cfg: PushConfig, client: httpx.Client | None) -> tuple[httpx.Client, bool]:
    if client is not None:
        return client, False
    return httpx.Client(timeout=cfg.http_timeout_seconds), True


# --------------------------------------------------------------------------- Meta


def meta_rows_from_csv(path: Path) -> list[list[str]]:
    """Rows of a published meta.csv in META_SCHEMA order."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if [h.upper() for h in header] != META_SCHEMA:
            raise PushError(f"{path} does not have the Meta header {META_SCHEMA}")
        return [row for row in reader]


def push_meta_rows(
    rows: Sequence[Sequence[str]],
    audience_id: str,
    cfg: PushConfig,
    state_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> PushResult:
    """Add hashed rows to a Meta custom audience in batches of at most 10,000."""
    token = _token(os.environ if env is None else env, cfg.meta.access_token_env)
    meta = cfg.meta
    url = f"{meta.graph_url.rstrip('/')}/{meta.api_version}/{audience_id}/users"
    batches = [[list(r) for r in chunk] for chunk in _chunks(rows, meta.batch_size)]
    state = _BatchState(state_path, "meta", audience_id)
    keys = [_key("meta", audience_id, {"schema": META_SCHEMA, "data": b}) for b in batches]
    pending = [i for i, k in enumerate(keys) if not state.succeeded(k)]
    result = PushResult("meta", audience_id)
    session_id = secrets.randbits(62) + 1
    http, owned = _client(cfg, client)
    try:
        for index, (batch, key) in enumerate(zip(batches, keys, strict=True)):
            if index not in pending:
                result.batches.append(BatchOutcome(index, key, len(batch), "skipped"))
                continue
            seq = pending.index(index) + 1
            session = {
                "session_id": session_id,
                "batch_seq": seq,
                "last_batch_flag": seq == len(pending),
                "estimated_num_total": sum(len(batches[i]) for i in pending),
            }
            form = {
                "payload": json.dumps({"schema": META_SCHEMA, "data": batch}),
                "session": json.dumps(session),
                "access_token": token,
            }
            what = f"meta audience {audience_id} batch {index}"
            try:
                response = _post(http, url, cfg.retry, what, _meta_transient, data=form)
            except (_RetryableResponse, httpx.TransportError) as exc:
                result.batches.append(BatchOutcome(index, key, len(batch), "failed", str(exc)))
                log.error("%s failed after retries: %s", what, exc)
                continue
            if response.is_success:
                body = _json(response)
                state.record(
                    key,
                    {
                        "status": "succeeded",
                        "rows": len(batch),
                        "session_id": session_id,
                        "batch_seq": seq,
                        "num_received": body.get("num_received"),
                        "num_invalid_entries": body.get("num_invalid_entries"),
                        "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    },
                )
                result.batches.append(BatchOutcome(index, key, len(batch), "sent"))
                log.info("%s sent (%d rows)", what, len(batch))
            else:
                error = _error_text(response, token)
                result.batches.append(BatchOutcome(index, key, len(batch), "failed", error))
                log.error("%s rejected: HTTP %s", what, response.status_code)
    finally:
        if owned:
            http.close()
    return result


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --------------------------------------------------------------------------- Klaviyo


def klaviyo_profiles_from_csv(path: Path, as_of: str | None = None) -> list[dict]:
    """Klaviyo profile objects from a published email_list.csv."""
    profiles = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            attributes: dict[str, Any] = {
                "email": row["email"],
                "external_id": row["customer_id"],
            }
            for ours, theirs in (("first_name", "first_name"), ("last_name", "last_name")):
                if row.get(ours):
                    attributes[theirs] = row[ours]
            if row.get("phone"):
                attributes["phone_number"] = row["phone"]
            if row.get("country"):
                attributes["location"] = {"country": row["country"]}
            properties = {
                "retention_action": row.get("action", ""),
                "retention_action_detail": row.get("action_detail", ""),
                "retention_segment": row.get("segment", ""),
            }
            if as_of:
                properties["retention_published_on"] = as_of
            attributes["properties"] = properties
            profiles.append({"type": "profile", "attributes": attributes})
    return profiles


def _klaviyo_body(profiles: Sequence[dict], list_id: str) -> dict:
    return {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": list(profiles)}},
            "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}},
        }
    }


def _klaviyo_batches(profiles: Sequence[dict], list_id: str, cfg: KlaviyoPushConfig) -> list:
    """Batches of at most batch_size profiles whose JSON body fits max_payload_bytes."""
    out: list[list[dict]] = []

    def fit(chunk: list[dict]) -> None:
        size = len(json.dumps(_klaviyo_body(chunk, list_id)).encode("utf-8"))
        if size <= cfg.max_payload_bytes or len(chunk) == 1:
            out.append(chunk)
            return
        half = len(chunk) // 2
        fit(chunk[:half])
        fit(chunk[half:])

    for chunk in _chunks(list(profiles), cfg.batch_size):
        fit(list(chunk))
    return out


def push_klaviyo_profiles(
    profiles: Sequence[dict],
    list_id: str,
    cfg: PushConfig,
    state_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> PushResult:
    """Upsert profiles and add them to a Klaviyo list with bulk import jobs."""
    key_value = _token(os.environ if env is None else env, cfg.klaviyo.api_key_env)
    url = f"{cfg.klaviyo.base_url.rstrip('/')}/api/profile-bulk-import-jobs"
    headers = {
        "Authorization": f"Klaviyo-API-Key {key_value}",
        "revision": cfg.klaviyo.revision,
        "accept": "application/vnd.api+json",
        "content-type": "application/vnd.api+json",
    }
    batches = _klaviyo_batches(profiles, list_id, cfg.klaviyo)
    state = _BatchState(state_path, "klaviyo", list_id)
    result = PushResult("klaviyo", list_id)
    http, owned = _client(cfg, client)
    try:
        for index, batch in enumerate(batches):
            body = _klaviyo_body(batch, list_id)
            key = _key("klaviyo", list_id, body)
            if state.succeeded(key):
                result.batches.append(BatchOutcome(index, key, len(batch), "skipped"))
                continue
            what = f"klaviyo list {list_id} batch {index}"
            try:
                response = _post(
                    http,
                    url,
                    cfg.retry,
                    what,
                    content=json.dumps(body).encode("utf-8"),
                    headers=headers,
                )
            except (_RetryableResponse, httpx.TransportError) as exc:
                result.batches.append(BatchOutcome(index, key, len(batch), "failed", str(exc)))
                log.error("%s failed after retries: %s", what, exc)
                continue
            if response.is_success:
                job = _json(response).get("data") or {}
                state.record(
                    key,
                    {
                        "status": "succeeded",
                        "rows": len(batch),
                        "job_id": job.get("id"),
                        "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    },
                )
                result.batches.append(BatchOutcome(index, key, len(batch), "sent"))
                log.info("%s sent (%d profiles)", what, len(batch))
            else:
                error = _error_text(response, key_value)
                result.batches.append(BatchOutcome(index, key, len(batch), "failed", error))
                log.error("%s rejected: HTTP %s", what, response.status_code)
    finally:
        if owned:
            http.close()
    return result


# --------------------------------------------------------------------------- exports


def push_export(
    export_dir: Path,
    cfg: PushConfig,
    *,
    env: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> list[PushResult]:
    """Push a verified, complete export folder to the configured Meta audiences and
    Klaviyo lists. Returns one result per target; nothing happens when disabled."""
    from activation.exports import verify_export

    if not cfg.enabled:
        log.info("push disabled; nothing sent")
        return []
    export_dir = Path(export_dir)
    manifest = verify_export(export_dir)
    as_of = manifest["as_of"]
    state_dir = cfg.state_dir or export_dir.parent / ".push_state"
    results = []
    for audience, info in manifest["audiences"].items():
        destinations = info["destinations"]
        meta_id = cfg.meta.audience_ids.get(audience)
        if meta_id and "meta" in destinations:
            rows = meta_rows_from_csv(export_dir / destinations["meta"]["file"])
            state = state_dir / f"{as_of}_meta_{audience}_{meta_id}.json"
            results.append(push_meta_rows(rows, meta_id, cfg, state, env=env, client=client))
        list_id = cfg.klaviyo.list_ids.get(audience)
        if list_id and "email_list" in destinations:
            profiles = klaviyo_profiles_from_csv(export_dir / destinations["email_list"]["file"], as_of)
            state = state_dir / f"{as_of}_klaviyo_{audience}_{list_id}.json"
            results.append(push_klaviyo_profiles(profiles, list_id, cfg, state, env=env, client=client))
    return results
