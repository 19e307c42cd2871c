"""Delivery (F25) against a real aiosmtpd server on loopback: MIME shape, TLS, auth, outbox retries."""

from __future__ import annotations

import json
import logging
import re
from email import policy
from email.parser import BytesParser

import pytest

from reports.delivery import build_message, deliver, flush_outbox, pending_messages
from reports.render import DigestContext, render_alert_digest, render_weekly_report
from reports.settings import DeliverySettings, RenderSettings, SmtpSettings
from tests.reports import factories as f
from tests.reports.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, free_port, password_authenticator

USER_ENV, PASSWORD_ENV = "TEST_REPORTS_SMTP_USER", "TEST_REPORTS_SMTP_PASSWORD"


@pytest.fixture(scope="module")
def weekly():
    return render_weekly_report(f.weekly_context(), RenderSettings(shop_name="Acme"))


@pytest.fixture(scope="module")
def alert_digest():
    return f.render_digest("en")


def settings_for(tmp_path, port=None, **smtp) -> DeliverySettings:
    return DeliverySettings(
        outbox_dir=tmp_path / "outbox",
        smtp=None
        if port is None
        else SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5, **{"security": "none", **smtp}),
        from_address="Acme reports <reports@acme.test>",
        recipients={"alert_digest": ["ops@acme.test"], "weekly_report": ["ceo@acme.test", "cmo@acme.test"]},
    )


def parse(envelope):
    return BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)


def assert_mime_shape(message, rendered):
    """alternative(text/plain, related(text/html, image/png...)) with Content-IDs matching every cid: ref."""
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert all(image.get_content_type() == "image/png" for image in images)
    html = html_part.get_content()
    refs = set(re.findall(r'src="cid:([^"]+)"', html))
    content_ids = {image["Content-ID"].strip("<>") for image in images}
    assert refs and refs == content_ids == set(rendered.images)
    for image in images:
        assert image.get_content() == rendered.images[image["Content-ID"].strip("<>")]
    assert message["Subject"] == rendered.subject
    return plain.get_content(), html


def test_report_and_digest_arrive_over_smtp(tmp_path, smtp_server, weekly, alert_digest):
    settings = settings_for(tmp_path, smtp_server.port)
    report_result = deliver(weekly, None, settings, now=f.NOW)
    digest_result = deliver(alert_digest, ["analyst@acme.test"], settings, now=f.NOW)
    assert report_result.status == digest_result.status == "sent"
    assert report_result.error is None and report_result.attempts == 1
    assert [sorted(e.rcpt_tos) for e in smtp_server.envelopes] == [
        ["ceo@acme.test", "cmo@acme.test"],
        ["analyst@acme.test"],
    ]
    assert smtp_server.envelopes[0].mail_from == "reports@acme.test"

    report = parse(smtp_server.envelopes[0])
    text, html = assert_mime_shape(report, weekly)
    for value in ("48,213", "5.2%", "$1,234.50", "+0.4 pp"):
        assert value in html and value in text
    assert f.ESCAPED_XSS in html and f.XSS_NAME not in html
    assert report["From"] == "Acme reports <reports@acme.test>" and report["To"] == "ceo@acme.test, cmo@acme.test"

    alerts = parse(smtp_server.envelopes[1])
    text, html = assert_mime_shape(alerts, alert_digest)
    assert "Churn rate spiked to 9.0% (all customers)" in html and "Churn rate spiked to 9.0%" in text
    assert f.ESCAPED_XSS in html and "<script" not in html

    # both moved to outbox/sent with their standalone HTML copies
    sent = tmp_path / "outbox" / "sent"
    assert sorted(p.suffix for p in sent.iterdir()) == [".eml", ".eml", ".html", ".html", ".json", ".json"]
    assert report_result.eml_path.parent == sent and report_result.html_path.read_text().startswith("<!DOCTYPE html>")
    assert pending_messages(settings) == []
    assert flush_outbox(settings) == [] and len(smtp_server.envelopes) == 2  # nothing sent twice


def test_zh_cn_digest_survives_smtp(tmp_path, smtp_server):
    rendered = f.render_digest("zh_CN")
    assert deliver(rendered, ["ops@acme.test"], settings_for(tmp_path, smtp_server.port), now=f.NOW).status == "sent"
    message = parse(smtp_server.envelopes[0])
    assert message["Subject"] == rendered.subject and "客户流失预警" in message["Subject"]
    text, html = assert_mime_shape(message, rendered)
    assert "建议措施" in html and "建议措施" in text and message["Content-Language"] == "zh-CN"


def test_starttls_with_credentials_from_environment(tmp_path, tls_material, monkeypatch, weekly, caplog):
    server = SmtpServer(
        tls_context=tls_material.server_context(),
        require_starttls=True,
        authenticator=password_authenticator,
        auth_required=True,
    ).start()
    try:
        monkeypatch.setenv(USER_ENV, SMTP_USER)
        monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
        settings = settings_for(
            tmp_path,
            server.port,
            security="starttls",
            ca_file=tls_material.cert_path,
            username_env=USER_ENV,
            password_env=PASSWORD_ENV,
        )
        with caplog.at_level(logging.DEBUG):
            result = deliver(weekly, None, settings, now=f.NOW)
        assert result.status == "sent", result.error
        [envelope] = server.envelopes
        assert_mime_shape(parse(envelope), weekly)

        # a wrong password keeps the message in the outbox; the secret never reaches logs or notes
        monkeypatch.setenv(PASSWORD_ENV, "wrong-" + SMTP_PASSWORD)
        with caplog.at_level(logging.DEBUG):
            failed = deliver(weekly, None, settings, now=f.NOW)
        assert failed.status == "queued" and "Authentication" in failed.error
        meta = failed.eml_path.with_suffix(".json").read_text()
        assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD not in meta
        assert SMTP_PASSWORD.encode() not in failed.eml_path.read_bytes()
        assert len(server.envelopes) == 1
    finally:
        server.stop()


def test_starttls_rejects_an_untrusted_certificate(tmp_path, tls_material, weekly):
    server = SmtpServer(tls_context=tls_material.server_context(), require_starttls=True).start()
    try:
        result = deliver(weekly, None, settings_for(tmp_path, server.port, security="starttls"), now=f.NOW)
        assert result.status == "queued" and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert server.envelopes == []
    finally:
        server.stop()


def test_implicit_tls(tmp_path, tls_material, alert_digest):
    server = SmtpServer(ssl_context=tls_material.server_context()).start()
    try:
        settings = settings_for(tmp_path, server.port, security="ssl", ca_file=tls_material.cert_path)
        assert deliver(alert_digest, ["ops@acme.test"], settings, now=f.NOW).status == "sent"
        assert len(server.envelopes) == 1
    finally:
        server.stop()


def test_outbox_keeps_messages_while_the_server_is_down_and_flush_sends_them(tmp_path, weekly, alert_digest):
    port = free_port()  # nothing listens here yet
    settings = settings_for(tmp_path, port)
    first = deliver(weekly, None, settings, now=f.NOW)
    second = deliver(alert_digest, None, settings, now=f.NOW)
    assert first.status == second.status == "queued"
    assert first.eml_path.parent == tmp_path / "outbox" / "pending" and first.eml_path.exists() and first.html_path.exists()
    meta = json.loads(first.eml_path.with_suffix(".json").read_text())
    assert meta["attempts"] == 1 and "Connection refused" in meta["last_error"]
    assert meta["recipients"] == ["ceo@acme.test", "cmo@acme.test"]

    still_down = flush_outbox(settings, now=f.NOW)
    assert [r.status for r in still_down] == ["queued", "queued"] and still_down[0].attempts == 2

    server = SmtpServer(port=port).start()
    try:
        results = flush_outbox(settings, now=f.NOW)
        assert [r.status for r in results] == ["sent", "sent"]
        assert sorted(tuple(sorted(e.rcpt_tos)) for e in server.envelopes) == [
            ("ceo@acme.test", "cmo@acme.test"),
            ("ops@acme.test",),
        ]
        assert pending_messages(settings) == []
        sent_meta = json.loads(results[0].eml_path.with_suffix(".json").read_text())
        assert sent_meta["attempts"] == 3 and sent_meta["last_error"] is None and sent_meta["sent_at"]
        subjects = {parse(e)["Subject"] for e in server.envelopes}
        assert subjects == {weekly.subject, alert_digest.subject}
        assert flush_outbox(settings) == [] and len(server.envelopes) == 2
    finally:
        server.stop()


def test_outbox_mode_is_the_default_and_writes_eml_and_html(tmp_path, weekly):
    settings = DeliverySettings(outbox_dir=tmp_path / "outbox")
    assert settings.smtp is None
    result = deliver(weekly, ["ceo@acme.test"], settings, now=f.NOW)
    assert result.status == "queued" and result.error is None and result.attempts == 0
    assert re.fullmatch(
        r"20260302T060000000000Z_weekly-report-acme-weekly-retention-report-[a-z0-9-]*_[0-9a-f]{8}\.eml",
        result.eml_path.name,
    )
    message = BytesParser(policy=policy.default).parsebytes(result.eml_path.read_bytes())
    assert_mime_shape(message, weekly)
    assert b"\r\n" in result.eml_path.read_bytes()[:200]  # stored exactly as it would be sent
    assert result.html_path.read_text() == weekly.html_standalone
    assert [r.status for r in flush_outbox(settings)] == ["queued"]
    assert pending_messages(settings) == [result.eml_path]


def test_unsafe_or_incomplete_smtp_configuration_keeps_messages_pending(tmp_path, smtp_server, weekly, monkeypatch):
    monkeypatch.setenv(USER_ENV, SMTP_USER)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    half = settings_for(tmp_path, smtp_server.port, username_env=USER_ENV, password_env=PASSWORD_ENV)
    result = deliver(weekly, None, half, now=f.NOW)
    assert result.status == "queued" and PASSWORD_ENV in result.error

    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    plaintext = deliver(weekly, None, half, now=f.NOW)
    assert plaintext.status == "queued" and "without TLS" in plaintext.error

    nobody = deliver(weekly, [], settings_for(tmp_path / "b", smtp_server.port), now=f.NOW)
    assert nobody.status == "queued" and "no recipients" in nobody.error
    assert smtp_server.envelopes == []


def test_message_without_images_is_plain_alternative(tmp_path):
    rendered = render_alert_digest(DigestContext([], f.NOW))
    message = build_message(rendered, ["a@acme.test"], DeliverySettings(outbox_dir=tmp_path))
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == ["text/plain", "text/html"]
