"""HTTP plumbing shared by the connectors: retries with backoff, body checks, redaction.

Every request goes through `Requester.request_json`, which retries (with stamina: exponential
backoff plus jitter) on 429, 408, 5xx, timeouts, connection errors and bodies that are not
the JSON we expect (a truncated page counts), honours a server-requested wait such as
`Retry-After`, and turns a final failure into an `ApiError` naming the source, method,
URL path and status -- never the query string, which may carry a token.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import stamina

from .errors import ApiError, RetryableError
from .settings import ApiSettings

logger = logging.getLogger(__name__)

REDACTED = "REDACTED"
SENSITIVE_PARAMS = frozenset({"access_token", "refresh_token", "client_secret", "appsecret_proof", "code", "client_assertion"})
_SENSITIVE_QUERY_RE = re.compile(r"(?i)\b(" + "|".join(sorted(SENSITIVE_PARAMS)) + r")=[^&\s\"'#]*")
_MIN_SECRET_LENGTH = 8  # shorter values are too likely to occur by chance in data


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace sensitive query parameters and any known secret value in `text`."""
    text = _SENSITIVE_QUERY_RE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def redact_url(url: str | httpx.URL) -> str:
    """A URL safe to log: sensitive query parameters replaced."""
    return redact_text(str(url))


class RedactingFilter(logging.Filter):
    """Redacts tokens from third-party log records (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if any("=" in str(a) for a in args):
                record.args = tuple(redact_url(a) if isinstance(a, str | httpx.URL) else a for a in args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact_text(record.msg)
        return True


def install_log_redaction() -> None:
    """Attach `RedactingFilter` to the httpx logger once (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactingFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(RedactingFilter())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (Shopify sends "2.0") or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


def error_detail(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """A short, secret-free reason from a platform error body (each platform nests it differently)."""
    reason = response.reason_phrase or ""
    message = ""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        err = body.get("error") if "error" in body else body.get("errors")
        if isinstance(err, list) and err:
            err = err[0]
        if isinstance(err, dict):
            # Meta {"error": {"message", "code"}}, SP-API/eBay {"errors": [{"code"|"errorId", "message"}]}
            code = err.get("code", err.get("errorId"))
            text = err.get("message") or err.get("longMessage") or ""
            message = f"{code}: {text}" if code is not None else str(text)
        elif isinstance(err, str):
            # OAuth {"error": "invalid_grant", "error_description": ...}; Shopify {"errors": "..."}
            message = err + (f": {body['error_description']}" if isinstance(body.get("error_description"), str) else "")
    detail = f"HTTP {response.status_code}" + (f" {reason}" if reason else "")
    if message:
        detail += f" ({redact_text(message, secrets)[:200]})"
    return detail


@dataclass
class JsonResponse:
    """A successful response with its raw bytes and parsed JSON body."""

    response: httpx.Response
    content: bytes
    body: Any


Validator = Callable[[Any], str | None]  # returns a problem description, or None when the body is fine
RetryHint = Callable[[httpx.Response, Any], tuple[bool, float | None]]  # (retry?, wait seconds)


class Requester:
    """Sends requests for one source with the retry policy from `ApiSettings`."""

    def __init__(
        self,
        client: httpx.Client,
        settings: ApiSettings,
        source: str,
        *,
        secrets: Callable[[], Iterable[str]] = lambda: (),
        retry_hint: RetryHint | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.source = source
        self._secrets = secrets
        self._retry_hint = retry_hint

    def request_json(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        validate: Validator | None = None,
    ) -> JsonResponse:
        """Send with retries; return the parsed body or raise `ApiError` (non-2xx that is not retryable too)."""
        s = self.settings
        label = f"{self.source}: {method} {httpx.URL(str(url)).path}"
        attempts = 0

        def on_error(exc: Exception) -> bool | float:
            if isinstance(exc, RetryableError):
                reason = exc.detail
            elif isinstance(exc, httpx.TransportError):  # timeouts, refused/reset connections, short reads
                reason = type(exc).__name__
            else:
                return False
            wait = exc.wait if isinstance(exc, RetryableError) else None
            logger.warning("%s attempt %d/%d failed: %s", label, attempts, s.max_retries + 1, reason)
            if wait is not None:
                return min(wait, s.retry_after_max)
            return True

        try:
            for attempt in stamina.retry_context(
                on=on_error,
                attempts=s.max_retries + 1,
                timeout=s.retry_total_timeout,
                wait_initial=s.backoff_initial,
                wait_max=s.backoff_max,
                wait_jitter=s.backoff_jitter,
                wait_exp_base=s.backoff_exp_base,
            ):
                with attempt:
                    attempts += 1
                    return self._once(method, url, label, params, headers, data, auth, validate)
        except RetryableError as exc:
            raise ApiError(f"{label} failed after {attempts} attempt(s): {exc.detail}", status=exc.status) from exc
        except httpx.TransportError as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection error"
            raise ApiError(f"{label} failed after {attempts} attempt(s): {kind} ({type(exc).__name__})") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        method: str,
        url: str | httpx.URL,
        label: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        data: dict[str, str] | None,
        auth: httpx.Auth | None,
        validate: Validator | None,
    ) -> JsonResponse:
        hdrs = dict(headers or {})
        hdrs.setdefault("Accept", "application/json")
        hdrs.setdefault("User-Agent", self.settings.user_agent)
        started = time.monotonic()
        response = self.client.request(
            method, url, params=params, headers=hdrs, data=data, auth=auth, timeout=self.settings.timeout()
        )
        status = response.status_code
        logger.debug("%s -> HTTP %d in %.2fs", label, status, time.monotonic() - started)

        parsed: Any = None
        try:
            parsed = orjson.loads(response.content) if response.content else None
            parse_error = None if response.content else "empty body"
        except orjson.JSONDecodeError:
            parse_error = "invalid JSON body (truncated or not JSON)"

        hinted_retry, hinted_wait = (False, None)
        if self._retry_hint is not None:
            hinted_retry, hinted_wait = self._retry_hint(response, parsed)
        if status in (408, 429) or status >= 500 or hinted_retry:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableError(
                error_detail(response, self._secrets()), status=status, wait=wait if wait is not None else hinted_wait
            )
        if not 200 <= status < 300:  # 3xx too: we never follow redirects with a token attached
            raise ApiError(f"{label} failed: {error_detail(response, self._secrets())}", status=status)
        if parse_error is not None:
            raise RetryableError(f"{parse_error} (HTTP {status})", status=status)
        if validate is not None and (problem := validate(parsed)) is not None:
            raise RetryableError(f"unexpected body: {problem} (HTTP {status})", status=status)
        return JsonResponse(response=response, content=response.content, body=parsed)


def same_origin(url: str | httpx.URL, base: str | httpx.URL) -> bool:
    """True when `url` points at the same scheme, host and port as `base` (we only send tokens there)."""
    a, b = httpx.URL(str(url)), httpx.URL(str(base))
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
