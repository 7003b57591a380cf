from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict
from shopmesh_kit.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPMESH_DEMO_")
    service_name: ClassVar[str] = "demo"
    port: int = 50099
    database_url: str = "sqlite+aiosqlite:///var/demo.db"
    signing_key: SecretStr = SecretStr("")


def test_defaults_and_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPMESH_DEMO_PORT", "6000")
    monkeypatch.setenv("SHOPMESH_DEMO_METRICS_PORT", "9100")
    monkeypatch.setenv("SHOPMESH_DEMO_LOG_JSON", "false")
    monkeypatch.setenv("PORT", "1")  # unprefixed: ignored
    settings = DemoSettings.load()
    assert (settings.port, settings.metrics_port, settings.log_json) == (6000, 9100, False)
    assert settings.host == "127.0.0.1"
    assert settings.database_url == "sqlite+aiosqlite:///var/demo.db"
    assert settings.migrate_on_start is True
    assert DemoSettings.service_name == "demo"


def test_secrets_are_read_from_files_and_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "SHOPMESH_DEMO_SIGNING_KEY").write_text("from-file")
    (tmp_path / "SHOPMESH_DEMO_DATABASE_URL").write_text("postgresql+psycopg://u:p@db/demo")
    monkeypatch.setenv("SHOPMESH_DEMO_DATABASE_URL", "sqlite+aiosqlite:///env.db")
    settings = DemoSettings.load(secrets_dir=tmp_path)
    assert settings.signing_key.get_secret_value() == "from-file"
    assert settings.database_url == "sqlite+aiosqlite:///env.db"
    assert "from-file" not in repr(settings)


def test_missing_secrets_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        DemoSettings.load(secrets_dir=tmp_path / "absent")


def test_base_requires_port_and_database_url() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings()
