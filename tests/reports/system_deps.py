"""Install the Debian packages the browser and CJK tests need, or fail saying how to get them.

Tests never skip for a missing browser or font: as root (CI, dev containers) the packages
are installed with apt-get; otherwise the test fails with the command to run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from reports import charts

BROWSER_PACKAGES = ("chromium", "fonts-wqy-zenhei")
CJK_FONT_PACKAGES = ("fonts-wqy-zenhei",)
_updated = False


@contextlib.contextmanager
def _apt_lock():
    # pytest-xdist workers may need the same packages at once: let one install them.
    with open(Path(tempfile.gettempdir()) / "reports-tests-apt.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apt_install(packages: tuple[str, ...], needed_for: str) -> None:
    global _updated
    command = f"apt-get update && apt-get install -y {' '.join(packages)}"
    if os.geteuid() != 0:
        pytest.fail(
            f"{needed_for} is not installed and these tests are not running as root; install it with: sudo sh -c '{command}'"
        )
    if shutil.which("apt-get") is None:
        pytest.fail(f"{needed_for} is not installed and apt-get is not available; install {', '.join(packages)} by other means")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = ([] if _updated else [["apt-get", "update"]]) + [["apt-get", "install", "-y", *packages]]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(step)}` failed ({done.returncode}) while installing {needed_for}:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    _updated = True


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Path of a chromium binary, installing Debian's `chromium` (and a CJK font) if missing."""
    path = chromium_path()
    if path is None:
        with _apt_lock():
            if chromium_path() is None:
                apt_install(BROWSER_PACKAGES, "chromium")
        path = chromium_path()
    if path is None:
        pytest.fail("chromium is still not on PATH after installing it")
    if charts.cjk_font() is None:  # the zh_CN page needs CJK glyphs too
        require_cjk_font()
    return path


def require_cjk_font() -> str:
    """Name of an installed CJK font family, installing fonts-wqy-zenhei if there is none."""
    family = charts.cjk_font()
    if family is None:
        with _apt_lock():
            charts.cjk_font.cache_clear()
            if charts.cjk_font() is None:
                apt_install(CJK_FONT_PACKAGES, "a CJK font")
        charts.cjk_font.cache_clear()
        family = charts.cjk_font()
    if family is None:
        pytest.fail("no CJK font found by matplotlib after installing fonts-wqy-zenhei")
    return family
