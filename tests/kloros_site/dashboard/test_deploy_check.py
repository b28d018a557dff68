"""`manage.py check --deploy` with production-like settings reports nothing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def check_deploy(tmp_path: Path, settings_module: str, **overrides: str) -> subprocess.CompletedProcess:
    # a deployment has none of the test-only switches (the browser tests set this one)
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": str(REPO),
        "KLR_STATE_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.com",
        "KLR_HTTPS": "true",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level=WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_passes_with_the_real_settings(tmp_path):
    result = check_deploy(tmp_path, "kloros_site.settings")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_https(tmp_path):
    # the check must be able to fail: without KLR_HTTPS cookies, redirect and HSTS are all off
    result = check_deploy(tmp_path, "kloros_site.settings", KLR_HTTPS="false")
    assert result.returncode != 0
    for check in ("W004", "W008", "W012", "W016"):
        assert f"security.{check}" in result.stderr + result.stdout
