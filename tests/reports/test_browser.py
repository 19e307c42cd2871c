"""The standalone HTML opens in a real browser (headless Chromium): loads, renders, images intact."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from reports.render import render_weekly_report
from reports.settings import RenderSettings
from tests.reports import factories as f
from tests.reports import system_deps
from tests.reports.system_deps import require_chromium

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def render(kind: str, locale: str):
    if kind == "weekly_report":
        return render_weekly_report(f.weekly_context(), RenderSettings(locale=locale, shop_name="Acme"))
    return f.render_digest(locale)


@pytest.mark.parametrize(
    ("kind", "locale", "heading"),
    [
        ("weekly_report", "en", "Weekly retention report"),
        ("weekly_report", "zh_CN", "每周客户留存报告"),
        ("alert_digest", "en", "Retention alerts"),
    ],
)
def test_standalone_html_renders_in_chromium(kind, locale, heading, artifacts_dir: Path):
    binary = require_chromium()
    email = render(kind, locale)
    page = artifacts_dir / f"{kind}_{locale}.html"
    page.write_text(email.html_standalone, encoding="utf-8")

    # every image is an inline PNG that decodes, with the size the <img> tag declares
    tags = re.findall(r"<img [^>]*>", email.html_standalone)
    assert len(tags) == len(email.images) > 0
    for tag in tags:
        src = re.search(r'src="data:image/png;base64,([^"]+)"', tag)
        assert src, tag[:120]
        image = Image.open(io.BytesIO(base64.b64decode(src.group(1))))
        image.load()
        assert (image.format, image.width) == ("PNG", int(re.search(r'width="(\d+)"', tag).group(1)))

    shot = artifacts_dir / f"{kind}_{locale}.png"
    shot.unlink(missing_ok=True)
    done = chromium(binary, "--window-size=700,2400", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "net::ERR_" not in done.stderr and "Failed to load resource" not in done.stderr
    picture = Image.open(shot).convert("RGB")
    assert picture.size == (700, 2400)
    colours = picture.getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, "screenshot is blank"
    # the 640 px body sits on the grey page background, the charts are drawn inside it
    assert picture.getpixel((5, 5)) == (243, 244, 246)

    dom = chromium(binary, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert heading in dom.stdout and f"<title>{email.subject}</title>" in dom.stdout
    assert dom.stdout.count("<img ") == len(email.images)
    assert "net::ERR_" not in dom.stderr


def test_missing_chromium_without_root_fails_with_the_install_command(monkeypatch):
    monkeypatch.setattr(system_deps, "chromium_path", lambda: None)
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium fonts-wqy-zenhei"):
        require_chromium()
