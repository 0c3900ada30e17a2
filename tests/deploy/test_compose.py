"""compose.yaml is accepted by docker-compose and the Compose Specification schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import deploycheck
import pytest
import yaml

COMPOSE = deploycheck.ROOT / "compose.yaml"
# relay and consume serve /health and /ready on this port (--health-port).
WORKER_HEALTH_PORT = 8080


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_config_accepts_compose_yaml_with_and_without_the_observability_profile() -> None:
    assert deploycheck.compose_config(COMPOSE) == []
    assert deploycheck.compose_config(COMPOSE, "observability") == []


def test_compose_yaml_validates_against_the_compose_specification_schema() -> None:
    assert deploycheck.validate_compose_schema(COMPOSE) == []


def test_a_broken_compose_file_fails_both_checks(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    text = COMPOSE.read_text().replace("condition: service_completed_successfully", "condition: service_done", 1)
    broken.write_text(text)
    (tmp_path / "deploy").symlink_to(deploycheck.ROOT / "deploy")
    config = deploycheck.compose_config(broken)
    assert len(config) == 1 and "depends_on" in config[0] and "condition" in config[0]
    schema = deploycheck.validate_compose_schema(broken)
    assert len(schema) == 1 and "depends_on" in schema[0]


def test_infrastructure_images_are_pinned_to_exact_versions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["postgres"]["image"].startswith("postgres:18.")
    for name, service in services.items():
        image = service["image"]
        tag = image.rsplit(":", 1)[-1]
        if name in {"kafka", "postgres", "otel-collector", "jaeger"}:
            assert tag[0].isdigit() and tag.count(".") >= 1, f"{name}: {image}"


def test_every_service_runs_its_api_relay_and_init_and_consumers_where_it_reads_kafka(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for service, port in deploycheck.SERVICES.items():
        api = services[service]
        assert api["command"] == ["serve", "--host", "0.0.0.0", "--port", str(port)]
        assert f"127.0.0.1:{port}:{port}" in api["ports"]
        assert services[f"{service}-relay"]["command"] == ["relay", "--health-port", str(WORKER_HEALTH_PORT)]
        init = services[f"{service}-init"]
        assert init["command"] == [f"metrology-{service} migrate && metrology-{service} provision-topics"]
        consumer = services.get(f"{service}-consumer")
        assert (consumer is not None) == bool(deploycheck.READS[service])
        if consumer:
            assert consumer["command"] == ["consume", "--health-port", str(WORKER_HEALTH_PORT)]
            waits_for = {d.removesuffix("-init") for d in consumer["depends_on"]}
            assert waits_for == {service, *deploycheck.READS[service]}


def test_services_wait_for_healthy_infrastructure_and_a_successful_init(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in deploycheck.SERVICES:
        init = services[f"{service}-init"]
        assert init["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "kafka": {"condition": "service_healthy"},
        }
        for worker in (service, f"{service}-relay", f"{service}-consumer"):
            if worker in services:
                conditions = {d["condition"] for d in services[worker]["depends_on"].values()}
                assert conditions == {"service_completed_successfully"}
        assert services[service]["healthcheck"]["test"][:2] == ["CMD", "python"]
        assert services[f"{service}-init"]["healthcheck"] == {"disable": True}
        for worker in (f"{service}-relay", f"{service}-consumer"):
            if worker in services:
                test = services[worker]["healthcheck"]["test"]
                assert test[:3] == ["CMD", "python", "-c"], worker
                assert f"urlopen('http://127.0.0.1:{WORKER_HEALTH_PORT}/health'" in test[3], worker
    assert "healthcheck" in services["kafka"] and "healthcheck" in services["postgres"]


def test_each_service_gets_its_own_database_and_the_conventional_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    databases = services["postgres"]["environment"]["METROLOGY_DATABASES"].split()
    assert databases == list(deploycheck.SERVICES)
    for service in deploycheck.SERVICES:
        env = services[service]["environment"]
        url = env[f"{service.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql+asyncpg://{service}:") and url.endswith(f"@postgres:5432/{service}")
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert env["OTEL_SERVICE_NAME"] == service
        assert {"AUTH_JWT_SECRET", "TENANT", "LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= set(env)
        assert services[service]["read_only"] is True and services[service]["cap_drop"] == ["ALL"]


def test_the_observability_profile_adds_an_otlp_collector_and_jaeger(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["otel-collector"]["profiles"] == ["observability"]
    assert services["jaeger"]["profiles"] == ["observability"]
    collector = yaml.safe_load((deploycheck.ROOT / "deploy/compose/otel-collector.yaml").read_text())
    assert collector["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
