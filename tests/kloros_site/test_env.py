from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kloros_site.env import broker_settings, env_bool, env_int, env_list, env_paths, parse_database_url


def test_booleans_accept_common_spellings_and_reject_the_rest(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG")


def test_integers_are_checked(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("N", 5, minimum=1)


def test_lists_and_defaults(monkeypatch):
    monkeypatch.delenv("HOSTS", raising=False)
    assert env_list("HOSTS", ["a"]) == ["a"]
    monkeypatch.setenv("HOSTS", " x.example , y.example ,")
    assert env_list("HOSTS", []) == ["x.example", "y.example"]


def test_watch_paths_must_be_directories(monkeypatch, tmp_path):
    monkeypatch.setenv("PATHS", f"{tmp_path}:{tmp_path / 'missing'}")
    with pytest.raises(ImproperlyConfigured, match="missing is not a directory"):
        env_paths("PATHS", [])
    monkeypatch.setenv("PATHS", str(tmp_path))
    assert env_paths("PATHS", []) == [tmp_path.resolve()]


def test_database_urls():
    sqlite = parse_database_url("sqlite:///state/db.sqlite3", base_dir=Path("/srv/app"))
    assert sqlite["NAME"] == "/srv/app/state/db.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    absolute = parse_database_url("sqlite:////var/lib/k/db.sqlite3", base_dir=Path("/srv"))
    assert absolute["NAME"] == "/var/lib/k/db.sqlite3"
    pg = parse_database_url(
        "postgres://user:p%40ss@db.internal:6432/kloros?sslmode=require", base_dir=Path(".")
    )
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "user",
        "p@ss",
        "db.internal",
        "6432",
        "kloros",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured, match="scheme 'mysql' is not supported"):
        parse_database_url("mysql://x/y", base_dir=Path("."))
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        parse_database_url("postgres://host/", base_dir=Path("."))


def test_filesystem_broker_gets_absolute_existing_folders(tmp_path):
    url, options = broker_settings("filesystem://", state_dir=tmp_path)
    assert url == "filesystem://localhost/"
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        assert Path(options[key]).is_absolute() and Path(options[key]).is_dir()
    assert broker_settings("amqp://guest:guest@h//", state_dir=tmp_path)[1]["confirm_publish"] is True
    with pytest.raises(ImproperlyConfigured, match="scheme 'kafka' is not supported"):
        broker_settings("kafka://h", state_dir=tmp_path)
