"""The verification service's wiring: its commands run on the pool its settings size."""

from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings


def test_commands_run_on_the_pool_of_24_connections_verification_keeps_by_default():
    settings = VerificationSettings(service_name="verification", database_url="postgresql://u:p@127.0.0.1:1/v")
    runtime = bootstrap(settings)
    assert runtime.connections.engine is runtime.engine
    assert runtime.engine.pool.size() == 24
    assert runtime.engine.pool._max_overflow == 16


def test_the_pool_size_comes_from_verification_database_pool_size(monkeypatch):
    monkeypatch.setenv("VERIFICATION_DATABASE_POOL_SIZE", "40")
    monkeypatch.setenv("VERIFICATION_DATABASE_URL", "postgresql://u:p@127.0.0.1:1/v")
    runtime = bootstrap(VerificationSettings.from_env("verification"))
    assert runtime.connections.engine.pool.size() == 40
