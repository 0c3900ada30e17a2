"""The five services as the contract tests see them: runtimes built by their own bootstraps (nothing connected)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
SERVICES = ("registry", "verification", "outreach", "training", "reporting", "webhooks", "inspection")
SETTINGS = {
    "registry": "RegistrySettings",
    "verification": "VerificationSettings",
    "outreach": "OutreachSettings",
    "training": "TrainingSettings",
    "reporting": "ReportingSettings",
    "webhooks": "WebhooksSettings",
    "inspection": "InspectionSettings",
}


def runtime_of(service: str) -> ServiceRuntime:
    bootstrap = importlib.import_module(f"metrology.{service}.bootstrap").bootstrap
    settings_type: type[ServiceSettings] = getattr(
        importlib.import_module(f"metrology.{service}.settings"), SETTINGS[service]
    )
    return bootstrap(settings_type.from_env(service, database_url="sqlite+aiosqlite:///:memory:"))  # type: ignore[no-any-return]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `service` runs once per service."""
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", SERVICES)


@pytest.fixture(scope="session")
def contracts_dir() -> Path:
    return CONTRACTS


@pytest.fixture(scope="session")
def runtimes() -> dict[str, ServiceRuntime]:
    return {service: runtime_of(service) for service in SERVICES}
