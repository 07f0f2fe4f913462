"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

The browser tests skip when Chromium is missing, and fail instead when
``IM_REQUIRE_SERVICES=1`` or ``IM_REQUIRE_BROWSER=1`` (``.ci/run`` installs it and sets the latter).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "chat"


def chromium_paths() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/lib/chromium/chromedriver" if os.path.exists("/usr/lib/chromium/chromedriver") else None)
    return browser, driver


def need_browser() -> tuple[str, str]:
    browser, driver = chromium_paths()
    if browser and driver:
        return browser, driver
    required = services_required() or os.environ.get("IM_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes", "on"}
    if required:
        pytest.fail("chromium and chromium-driver are required (apt-get install chromium chromium-driver)")
    pytest.skip("chromium / chromium-driver not installed")


def new_driver(width: int = 1200, height: int = 800) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = need_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=options)
    drv.set_page_load_timeout(30)
    return drv


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the page may be mid-render; try again
            last_error = exc
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" ({last_error!r})" if last_error else ""))


def screenshot(drv: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    drv.save_screenshot(str(path))
    return path


def set_offline(drv: Any, offline: bool) -> None:
    """Cut (or restore) the page's network, as DevTools' "Offline" does."""
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
