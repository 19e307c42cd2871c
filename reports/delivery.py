"""Deliver rendered emails: MIME building, the outbox folder and SMTP (F25).

Every message is first written to ``<outbox>/pending/``:

- ``<stem>.eml``: the complete MIME message (CRLF line endings, as sent),
- ``<stem>.html``: the standalone HTML (charts as ``data:`` URIs) to open in a browser,
- ``<stem>.json``: envelope and status (recipients, attempts, last error). It is written
  last and marks the message as complete.

With ``DeliverySettings.smtp`` unset (the default, "outbox mode") messages stay there
for a person or another tool to pick up. With SMTP configured the message is sent and
its three files move to ``<outbox>/sent/``; if sending fails they stay in ``pending/``
with the error in the ``.json`` and :func:`flush_outbox` retries them on the next run.
Nothing is dropped silently.

MIME structure: ``multipart/alternative`` [``text/plain``, ``multipart/related``
[``text/html``, ``image/png`` parts whose Content-ID matches the ``cid:`` references]].
Credentials come only from the environment variables named in :class:`SmtpSettings`
and are never written to logs, files or error notes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal

from reports.render import RenderedEmail
from reports.settings import DeliverySettings, SmtpSettings

try:  # serialise concurrent flushes on POSIX; elsewhere runs are serialised by the orchestrator
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"


class DeliveryError(RuntimeError):
    """SMTP is configured in a way that cannot work (e.g. half the credentials)."""


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome for one message: ``sent`` (now in outbox/sent) or ``queued`` (in outbox/pending)."""

    status: Literal["sent", "queued"]
    eml_path: Path
    html_path: Path
    message_id: str
    recipients: tuple[str, ...]
    error: str | None = None
    attempts: int = 0
    refused: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------
# MIME
# ------------------------------------------------------------------------------------
def build_message(
    message: RenderedEmail,
    recipients: Sequence[str],
    settings: DeliverySettings,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The MIME message: alternative(text, related(html, png...))."""
    now = now or dt.datetime.now(dt.UTC)
    mime = EmailMessage()
    mime["Subject"] = message.subject
    mime["From"] = settings.from_address
    if recipients:
        mime["To"] = ", ".join(recipients)
    if settings.reply_to:
        mime["Reply-To"] = settings.reply_to
    mime["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    domain = parseaddr(settings.from_address)[1].rpartition("@")[2] or "localhost"
    mime["Message-ID"] = make_msgid(idstring=message.kind.replace("_", "-"), domain=domain)
    mime["X-Retention-Report"] = message.kind
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    mime.add_alternative(message.html_for_email, subtype="html", charset="utf-8")
    # after add_alternative: it moves Content-* headers into the first sub-part
    mime["Content-Language"] = message.locale.replace("_", "-")
    if message.images:
        html_part = mime.get_payload()[1]
        for cid, png in message.images.items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png")
    return mime


# ------------------------------------------------------------------------------------
# Outbox
# ------------------------------------------------------------------------------------
def _slug(text: str, limit: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "message"


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    _write_atomic(path, json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8"))


@contextlib.contextmanager
def _outbox_lock(outbox: Path) -> Iterator[None]:
    outbox.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with (outbox / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_to_outbox(
    message: RenderedEmail,
    recipients: Sequence[str],
    settings: DeliverySettings,
    now: dt.datetime | None = None,
) -> Path:
    """Write ``message`` to outbox/pending and return the path of its ``.eml``."""
    now = now or dt.datetime.now(dt.UTC)
    mime = build_message(message, recipients, settings, now)
    pending = settings.outbox_dir / PENDING
    pending.mkdir(parents=True, exist_ok=True)
    (settings.outbox_dir / SENT).mkdir(parents=True, exist_ok=True)
    unique = hashlib.sha256(str(mime["Message-ID"]).encode()).hexdigest()[:8]
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    stem = f"{stamp}_{_slug(message.kind + ' ' + message.subject)}_{unique}"
    _write_atomic(pending / f"{stem}.html", message.html_standalone.encode("utf-8"))
    _write_atomic(pending / f"{stem}.eml", mime.as_bytes(policy=SMTP_POLICY))
    meta = {
        "kind": message.kind,
        "subject": message.subject,
        "message_id": str(mime["Message-ID"]),
        "envelope_from": parseaddr(settings.from_address)[1],
        "recipients": list(recipients),
        "created_at": now.isoformat(),
        "attempts": 0,
        "last_attempt_at": None,
        "last_error": None,
    }
    _write_meta(pending / f"{stem}.json", meta)  # written last: marks the message complete
    return pending / f"{stem}.eml"


def pending_messages(settings: DeliverySettings) -> list[Path]:
    """Complete messages waiting in outbox/pending, oldest first."""
    pending = settings.outbox_dir / PENDING
    if not pending.is_dir():
        return []
    return sorted(path for path in pending.glob("*.eml") if path.with_suffix(".json").exists())


# ------------------------------------------------------------------------------------
# SMTP
# ------------------------------------------------------------------------------------
def _credentials(smtp: SmtpSettings) -> tuple[str | None, str | None]:
    username = os.environ.get(smtp.username_env) or None
    password = os.environ.get(smtp.password_env) or None
    if (username is None) != (password is None):
        missing = smtp.password_env if password is None else smtp.username_env
        raise DeliveryError(f"SMTP credentials incomplete: environment variable {missing} is not set")
    return username, password


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    username, password = _credentials(smtp)
    if username and smtp.security == "none" and not smtp.allow_insecure_auth:
        raise DeliveryError("refusing to send SMTP credentials without TLS (security='none'); use starttls or ssl")
    context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if username and password:
            client.login(username, password)
    except BaseException:
        with contextlib.suppress(Exception):
            client.close()
        raise
    return client


def _describe(error: BaseException, smtp: SmtpSettings) -> str:
    text = f"{type(error).__name__}: {error}"
    secret = os.environ.get(smtp.password_env)
    if secret:  # defensive: a server echoing the credential must not put it in our notes
        text = text.replace(secret, "***")
    return text[:500]


def _move_to_sent(eml: Path, settings: DeliverySettings) -> Path:
    sent = settings.outbox_dir / SENT
    sent.mkdir(parents=True, exist_ok=True)
    for suffix in (".html", ".eml", ".json"):
        source = eml.with_suffix(suffix)
        if source.exists():
            os.replace(source, sent / source.name)
    return sent / eml.name


def _result(
    eml: Path, meta: dict[str, Any], status: Literal["sent", "queued"], refused: dict[str, str] | None = None
) -> DeliveryResult:
    return DeliveryResult(
        status=status,
        eml_path=eml,
        html_path=eml.with_suffix(".html"),
        message_id=meta.get("message_id", ""),
        recipients=tuple(meta.get("recipients", [])),
        error=meta.get("last_error"),
        attempts=int(meta.get("attempts", 0)),
        refused=refused or {},
    )


def _send_all(paths: Sequence[Path], settings: DeliverySettings, now: dt.datetime) -> list[DeliveryResult]:
    """Try to send each pending message over one SMTP connection; failures stay pending."""
    smtp = settings.smtp
    results: list[DeliveryResult] = []
    client: smtplib.SMTP | None = None
    connection_error: str | None = None
    try:
        for eml in paths:
            meta_path = eml.with_suffix(".json")
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if smtp is None:
                results.append(_result(eml, meta, "queued"))
                continue
            recipients = meta.get("recipients") or [
                address for _, address in getaddresses([_header(eml, "To"), _header(eml, "Cc")]) if address
            ]
            meta["attempts"] = int(meta.get("attempts", 0)) + 1
            meta["last_attempt_at"] = now.isoformat()
            refused: dict[str, str] = {}
            try:
                if not recipients:
                    raise DeliveryError("no recipients configured for this message")
                if connection_error is not None:
                    raise DeliveryError(connection_error)
                if client is None:
                    try:
                        client = _connect(smtp)
                    except (OSError, smtplib.SMTPException, DeliveryError) as error:
                        connection_error = _describe(error, smtp)
                        raise
                failures = client.sendmail(meta.get("envelope_from") or "", recipients, eml.read_bytes())
                refused = {address: f"{code} {reply.decode(errors='replace')}" for address, (code, reply) in failures.items()}
            except (OSError, smtplib.SMTPException, DeliveryError) as error:
                if isinstance(error, (smtplib.SMTPServerDisconnected, OSError)) and client is not None:
                    client = None  # reconnect for the next message
                meta["last_error"] = connection_error if connection_error else _describe(error, smtp)
                _write_meta(meta_path, meta)
                log.warning("email %s stays in the outbox: %s", eml.name, meta["last_error"])
                results.append(_result(eml, meta, "queued"))
                continue
            meta["last_error"] = None
            meta["sent_at"] = now.isoformat()
            if refused:
                meta["refused"] = refused
            _write_meta(meta_path, meta)
            sent_path = _move_to_sent(eml, settings)
            log.info("email %s sent to %d recipient(s)", eml.name, len(recipients) - len(refused))
            results.append(_result(sent_path, meta, "sent", refused))
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.quit()
    return results


def _header(eml: Path, name: str) -> str:
    return str(message_from_bytes(eml.read_bytes(), policy=default_policy).get(name, ""))


# ------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------
def deliver(
    message: RenderedEmail,
    recipients: Sequence[str] | None,
    settings: DeliverySettings,
    now: dt.datetime | None = None,
) -> DeliveryResult:
    """Write ``message`` to the outbox and, when SMTP is configured, send it.

    ``recipients`` None means the per-report list ``settings.recipients[message.kind]``.
    Returns ``sent`` (moved to outbox/sent) or ``queued`` (still in outbox/pending: outbox
    mode, or sending failed and :func:`flush_outbox` will retry).
    """
    now = now or dt.datetime.now(dt.UTC)
    recipients = list(dict.fromkeys(settings.recipients.get(message.kind, []) if recipients is None else recipients))
    with _outbox_lock(settings.outbox_dir):
        eml = write_to_outbox(message, recipients, settings, now)
        return _send_all([eml], settings, now)[0]


def flush_outbox(settings: DeliverySettings, now: dt.datetime | None = None) -> list[DeliveryResult]:
    """Retry every message still pending (oldest first). Without SMTP they all stay queued."""
    now = now or dt.datetime.now(dt.UTC)
    with _outbox_lock(settings.outbox_dir):
        return _send_all(pending_messages(settings), settings, now)
