"""Secrets from the environment and OAuth access tokens (Login with Amazon, eBay OAuth).

Secrets are read when a fetch runs, never at import, and are only ever sent in request
headers or form bodies -- never logged, never written to landing files.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import httpx

from .errors import ApiError, MissingSecretError
from .http import JsonResponse, Requester

logger = logging.getLogger(__name__)


def require_secret(source: str, variable: str) -> str:
    """The value of environment variable `variable`, or `MissingSecretError` naming it."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise MissingSecretError(source, variable)
    return value


def _token_body(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        return "no access_token in token response"
    return None


def _expires_in(body: dict, *, default: float) -> float:
    value = body.get("expires_in")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


class AccessToken:
    """An OAuth access token minted on demand, cached until shortly before it expires."""

    def __init__(self, mint: Callable[[], tuple[str, float]], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._mint = mint
        self._clock = clock
        self._value: str | None = None
        self._expires_at = 0.0
        self.minted = 0  # how many tokens this run requested (for logs and tests)
        self.issued: list[str] = []  # every token issued this run, so it can be scrubbed from files

    def get(self) -> str:
        if self._value is None or self._clock() >= self._expires_at:
            value, expires_in = self._mint()
            self.minted += 1
            self.issued.append(value)
            # Refresh a minute early (or at half-life for short tokens) so a page never starts on a dying token.
            skew = min(60.0, expires_in / 2)
            self._value, self._expires_at = value, self._clock() + max(0.0, expires_in - skew)
        return self._value

    def invalidate(self) -> None:
        """Forget the cached token (the API said 401/403): the next `get` mints a new one."""
        self._value = None


def lwa_token(requester: Requester, lwa_url: str, *, client_id: str, client_secret: str, refresh_token: str) -> AccessToken:
    """Login with Amazon: POST {lwa_url}/auth/o2/token, grant_type=refresh_token -> access_token (1 h)."""

    def mint() -> tuple[str, float]:
        logger.info("amazon: requesting an LWA access token")
        res = requester.request_json(
            "POST",
            f"{lwa_url.rstrip('/')}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            validate=_token_body,
        )
        return res.body["access_token"], _expires_in(res.body, default=3600)

    return AccessToken(mint)


def ebay_token(
    requester: Requester,
    auth_url: str,
    *,
    grant_type: str,
    client_id: str,
    client_secret: str,
    refresh_token: str | None,
    scopes: tuple[str, ...],
) -> AccessToken:
    """eBay OAuth: POST {auth_url}/identity/v1/oauth2/token with Basic base64(client_id:client_secret)."""

    def mint() -> tuple[str, float]:
        logger.info("ebay: requesting an OAuth access token (%s grant)", grant_type)
        form = {"grant_type": grant_type, "scope": " ".join(scopes)}
        if grant_type == "refresh_token":
            form["refresh_token"] = refresh_token or ""
        res = requester.request_json(
            "POST",
            f"{auth_url.rstrip('/')}/identity/v1/oauth2/token",
            data=form,
            auth=httpx.BasicAuth(client_id, client_secret),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            validate=_token_body,
        )
        return res.body["access_token"], _expires_in(res.body, default=7200)

    return AccessToken(mint)


def with_token_refresh(token: AccessToken, send: Callable[[str], JsonResponse], *, statuses: tuple[int, ...]) -> JsonResponse:
    """`send(access_token)`; if the API rejects the token (`statuses`), mint a new one and send once more."""
    access = token.get()  # a failing token request is final: it is not a rejected-token answer
    try:
        return send(access)
    except ApiError as exc:
        if exc.status not in statuses:
            raise
        logger.info("access token rejected (HTTP %d); minting a new one and retrying once", exc.status)
    token.invalidate()
    return send(token.get())
