"""Configuration from the environment, and production hardening."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def leadbase(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadbase.cli", *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_without_warnings(tmp_path: Path) -> None:
    result = leadbase(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "LEADBASE_ENV": "production",
            "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-value-0123456789",
            "ALLOWED_HOSTS": "leads.example.com",
            "LEADBASE_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = leadbase(
        "check", env={"LEADBASE_ENV": "production", "LEADBASE_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_database_url_selects_the_database(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere.sqlite3"
    result = leadbase(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        env={"DATABASE_URL": f"sqlite:///{db}", "LEADBASE_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stderr
    assert str(db) in result.stdout


def test_bad_boolean_in_the_environment_is_explained(tmp_path: Path) -> None:
    result = leadbase("check", env={"LEADBASE_DEBUG": "maybe", "LEADBASE_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "LEADBASE_DEBUG='maybe'" in result.stderr
