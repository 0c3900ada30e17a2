"""Every secret a service checks at start-up comes from a Kubernetes Secret, and the rendered workloads run in
production mode with the identity provider's JWKS: their configuration passes the start-up check."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import deploycheck
import pytest

from metrology.servicekit.settings import ServiceSettings

Objects = list[dict[str, Any]]


def settings_type(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"metrology.{service}.settings")
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    ]
    return found[0] if found else ServiceSettings


def service_containers(objects: Objects) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for workload, pod in deploycheck.pod_specs(objects):
        service = workload["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        if service in deploycheck.SERVICES:
            found += [(service, pod, container) for container in deploycheck.containers_of(pod)]
    return found


def environment_of(container: dict[str, Any], objects: Objects) -> dict[str, str]:
    """The variables a container sees; a value from a Secret stands as a placeholder naming it."""
    config_maps = {o["metadata"]["name"]: o.get("data") or {} for o in objects if o["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        env |= config_maps[source["configMapRef"]["name"]]
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif secret := item["valueFrom"].get("secretKeyRef"):
            env[item["name"]] = f"from-secret:{secret['name']}/{secret['key']}"
        else:
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = f"from-config-map:{ref['name']}/{ref['key']}"
    return env


@pytest.mark.parametrize("target", sorted(deploycheck.DEPLOYED_TARGETS))
def test_every_secret_a_service_checks_comes_from_a_kubernetes_secret(rendered: dict[str, Objects], target: str):
    containers = service_containers(rendered[target])
    assert {service for service, _, _ in containers} == (
        {"reporting"} if "rebuild" in target else set(deploycheck.SERVICES)
    )
    for service, _, container in containers:
        env = environment_of(container, rendered["prod"] + rendered[target])
        secret_names = settings_type(service)().checked_secrets().keys()
        for name in ["KAFKA_SASL_PASSWORD", *secret_names]:
            assert env.get(name, "").startswith("from-secret:"), f"{service}/{container['name']}: {name}"


@pytest.mark.parametrize("target", sorted(deploycheck.DEPLOYED_TARGETS))
def test_every_workload_runs_in_production_and_passes_the_start_up_check(rendered: dict[str, Objects], target: str):
    for service, pod, container in service_containers(rendered[target]):
        env = environment_of(container, rendered["prod"] + rendered[target])
        assert env["ENVIRONMENT"] == "production"
        mounted = {m["mountPath"] for m in container.get("volumeMounts") or []}
        assert env["AUTH_JWKS_FILE"].rsplit("/", 1)[0] in mounted, f"{service}/{container['name']}: no JWKS mount"
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        assert volumes["auth"]["configMap"]["name"] == "metrology-auth"
        values = {key.lower(): value for key, value in env.items()}
        prefix = f"{service}_"
        values |= {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)}
        fields = settings_type(service).model_fields
        settings = settings_type(service)(**{k: v for k, v in values.items() if k in fields})
        assert settings.insecure_settings() == [], f"{service}/{container['name']}"
