from metrology.servicekit.settings import ServiceSettings


def test_a_service_prefixed_variable_wins_over_the_shared_one(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared:9092")
    monkeypatch.setenv("TRAINING_KAFKA_BOOTSTRAP_SERVERS", "own:9092")
    assert ServiceSettings.from_env("training").kafka_bootstrap_servers == "own:9092"
    assert ServiceSettings.from_env("registry").kafka_bootstrap_servers == "shared:9092"


def test_without_a_database_url_a_service_gets_its_own_sqlite_file(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAINING_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRAINING_DATA_DIR", "/var/lib/metrology")
    assert ServiceSettings.from_env("training").database_url == "sqlite+aiosqlite:////var/lib/metrology/training.db"
