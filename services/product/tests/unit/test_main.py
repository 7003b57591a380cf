import pytest
from shopmesh_product.__main__ import main
from shopmesh_product.settings import ProductSettings


def test_help_names_the_commands_and_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for word in ("serve", "migrate", "SHOPMESH_PRODUCT_", "SHOPMESH_SECRETS_DIR"):
        assert word in text


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPMESH_PRODUCT_SEED_DEMO_CATALOG", "true")
    monkeypatch.setenv("SHOPMESH_PRODUCT_CURRENCY", "EUR")
    settings = ProductSettings.load()
    assert (settings.port, settings.database_url) == (50053, "sqlite+aiosqlite:///var/product.db")
    assert (settings.currency, settings.seed_demo_catalog) == ("EUR", True)
