"""The kustomize overlays render and validate offline, and keep the platform's rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import deploycheck
import pytest
import yaml

Objects = list[dict[str, Any]]

# relay and consume serve /health and /ready on this port (--health-port).
WORKER_HEALTH_PORT = 8080
OVERLAYS = sorted(d.name for d in (deploycheck.K8S_DIR / "overlays").iterdir() if d.is_dir())


def by_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env") or []}


def deployment_probe_problems(objects: Objects) -> list[str]:
    """Every container of every Deployment, workers included, has liveness on GET /health
    and readiness on GET /ready, against a port the container declares."""
    problems = []
    for deployment in objects:
        if deployment["kind"] != "Deployment":
            continue
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            name = f"{deploycheck.ident(deployment)} container {c['name']}"
            ports = {p.get("name") for p in c.get("ports") or []} | {p["containerPort"] for p in c.get("ports") or []}
            for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
                get = (c.get(probe) or {}).get("httpGet") or {}
                if get.get("path") != path:
                    problems.append(f"{name}: {probe} must GET {path} (has {get.get('path')!r})")
                elif get.get("port") not in ports:
                    problems.append(f"{name}: {probe} port {get.get('port')!r} is not a container port")
    return problems


# ------------------------------------------------------------------ rendering and schemas
def test_every_overlay_and_the_rebuild_job_render_with_kustomize(rendered: dict[str, Objects]) -> None:
    assert set(rendered) == set(deploycheck.RENDER_TARGETS)
    for name, objects in rendered.items():
        assert objects, f"{name} rendered nothing"


def test_every_rendered_built_in_object_validates_against_the_kubernetes_schemas(
    deployed: dict[str, Objects],
) -> None:
    problems = [p for objects in deployed.values() for p in deploycheck.validate_builtin(objects)]
    assert problems == []


def test_strimzi_and_cloudnativepg_objects_validate_against_the_operator_schemas(
    deployed: dict[str, Objects],
) -> None:
    labelled = [(name, o) for name, objects in deployed.items() for o in objects]
    assert deploycheck.validate_crds(labelled) == []


def test_strimzi_resources_use_the_v1_api_with_kraft_node_pools(prod: Objects) -> None:
    kafka = by_kind(prod, "Kafka")["metrology"]
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/kraft": "enabled",
        "strimzi.io/node-pools": "enabled",
    }
    pools = by_kind(prod, "KafkaNodePool")
    assert {tuple(p["spec"]["roles"]) for p in pools.values()} == {("controller",), ("broker",)}
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == "metrology" for p in pools.values())
    listener = kafka["spec"]["kafka"]["listeners"][0]
    assert (listener["tls"], listener["authentication"]["type"]) == (True, "scram-sha-512")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"


# ------------------------------------------------------------------ pod security
@pytest.mark.parametrize("target", deploycheck.DEPLOYED_TARGETS)
def test_every_workload_runs_as_non_root_with_a_read_only_root_filesystem(
    deployed: dict[str, Objects], target: str
) -> None:
    workloads = list(deploycheck.pod_specs(deployed[target]))
    assert workloads
    assert deploycheck.security_problems(deployed[target]) == []


def test_every_service_has_api_and_relay_deployments_and_consumers_where_it_reads_kafka(prod: Objects) -> None:
    deployments = by_kind(prod, "Deployment")
    expected = {f"{s}-api" for s in deploycheck.SERVICES} | {f"{s}-relay" for s in deploycheck.SERVICES}
    expected |= {f"{s}-consumer" for s, reads in deploycheck.READS.items() if reads}
    assert set(deployments) == expected
    for name, deployment in deployments.items():
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        role = name.rsplit("-", 1)[1]
        assert args[0] == {"api": "serve", "relay": "relay", "consumer": "consume"}[role]
        if role != "api":
            assert args == [args[0], "--health-port", str(WORKER_HEALTH_PORT)]
        init = deployment["spec"]["template"]["spec"]["initContainers"][0]
        assert init["args"] == ["migrate"]
    assert deployments["registry-relay"]["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("target", deploycheck.DEPLOYED_TARGETS)
def test_every_container_sets_resource_requests_and_limits(deployed: dict[str, Objects], target: str) -> None:
    assert deploycheck.resource_problems(deployed[target]) == []


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_every_http_api_is_probed_on_health_for_liveness_and_ready_for_readiness(
    deployed: dict[str, Objects], target: str
) -> None:
    apis = [d for d in by_kind(deployed[target], "Deployment").values() if d["metadata"]["name"].endswith("-api")]
    assert len(apis) == len(deploycheck.SERVICES)
    assert deploycheck.probe_problems(deployed[target]) == []
    for api in apis:
        container = api["spec"]["template"]["spec"]["containers"][0]
        service = api["metadata"]["labels"]["app.kubernetes.io/name"]
        assert container["ports"][0]["containerPort"] == deploycheck.SERVICES[service]
        assert container["args"] == ["serve", "--host", "0.0.0.0", "--port", str(deploycheck.SERVICES[service])]


def test_every_overlay_is_rendered_and_checked() -> None:
    assert OVERLAYS and set(OVERLAYS) <= set(deploycheck.RENDER_TARGETS) & set(deploycheck.DEPLOYED_TARGETS)


@pytest.mark.parametrize("target", OVERLAYS)
def test_every_container_of_every_deployment_has_liveness_and_readiness_probes(
    rendered: dict[str, Objects], target: str
) -> None:
    deployments = by_kind(rendered[target], "Deployment")
    assert deployments
    assert deployment_probe_problems(rendered[target]) == []
    workers = [d for n, d in deployments.items() if not n.endswith("-api")]
    assert workers
    for worker in workers:
        (container,) = worker["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "probes", "containerPort": WORKER_HEALTH_PORT, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "probes"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "probes"}


def test_a_worker_without_probes_or_ports_fails_the_deployment_probe_rule(prod: Objects) -> None:
    # deploycheck.probe_problems skips containers without ports; this rule must not.
    consumer = yaml.safe_load(yaml.safe_dump(by_kind(prod, "Deployment")["reporting-consumer"]))
    container = consumer["spec"]["template"]["spec"]["containers"][0]
    for key in ("ports", "livenessProbe", "readinessProbe"):
        del container[key]
    assert deploycheck.probe_problems([consumer]) == []
    assert deployment_probe_problems([consumer]) == [
        "Deployment/reporting-consumer container consumer: livenessProbe must GET /health (has None)",
        "Deployment/reporting-consumer container consumer: readinessProbe must GET /ready (has None)",
    ]


def test_the_namespace_enforces_the_restricted_pod_security_standard(prod: Objects) -> None:
    (namespace,) = by_kind(prod, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {o["metadata"].get("namespace") for o in prod if o["kind"] != "Namespace"} == {"metrology"}


# ------------------------------------------------------------------ availability
def test_every_http_api_has_an_autoscaler_in_prod_and_none_in_dev(prod: Objects, dev: Objects) -> None:
    hpas = by_kind(prod, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {f"{s}-api" for s in deploycheck.SERVICES}
    assert all(h["apiVersion"] == "autoscaling/v2" and h["spec"]["minReplicas"] >= 2 for h in hpas.values())
    assert by_kind(dev, "HorizontalPodAutoscaler") == {}
    assert all("replicas" not in d["spec"] for n, d in by_kind(prod, "Deployment").items() if n.endswith("-api"))


def test_every_deployment_has_a_pod_disruption_budget_selecting_its_pods(prod: Objects) -> None:
    pdbs = by_kind(prod, "PodDisruptionBudget")
    for name, deployment in by_kind(prod, "Deployment").items():
        assert pdbs[name]["spec"]["selector"] == deployment["spec"]["selector"]


def test_prod_spreads_replicas_over_nodes_and_dev_runs_one_of_everything(prod: Objects, dev: Objects) -> None:
    for deployment in by_kind(prod, "Deployment").values():
        keys = {c["topologyKey"] for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert all(d["spec"].get("replicas", 1) == 1 for d in by_kind(dev, "Deployment").values())
    assert all(c["spec"]["instances"] == 1 for c in by_kind(dev, "Cluster").values())
    assert all(c["spec"]["instances"] == 3 for c in by_kind(prod, "Cluster").values())
    assert all(c["spec"]["affinity"]["podAntiAffinityType"] == "required" for c in by_kind(prod, "Cluster").values())


# ------------------------------------------------------------------ Kafka
def test_every_kafka_topic_in_prod_has_three_replicas_min_isr_two_and_infinite_retention(prod: Objects) -> None:
    assert deploycheck.topic_problems(prod, replicas=3, min_isr=2) == []
    topics = {t["spec"]["topicName"] for t in by_kind(prod, "KafkaTopic").values()}
    assert topics == set(deploycheck.EVENT_TOPICS)


def test_dev_kafka_runs_one_replica_with_min_isr_one(dev: Objects) -> None:
    assert deploycheck.topic_problems(dev, replicas=1, min_isr=1) == []
    config = by_kind(dev, "Kafka")["metrology"]["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 1
    assert config["default.replication.factor"] == 1
    assert all(p["spec"]["replicas"] == 1 for p in by_kind(dev, "KafkaNodePool").values())


def test_each_kafka_user_writes_only_its_own_topics_and_reads_only_what_it_consumes(prod: Objects) -> None:
    users = by_kind(prod, "KafkaUser")
    assert set(users) == set(deploycheck.SERVICES)
    for service, user in users.items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        writes, reads, groups = set(), set(), set()
        for acl in user["spec"]["authorization"]["acls"]:
            resource, operations = acl["resource"], set(acl["operations"])
            assert acl.get("type", "allow") == "allow"
            assert operations <= {"Read", "Write", "Describe"}, f"{service}: {operations}"
            if resource["type"] == "topic":
                assert resource["patternType"] == "literal"
                (writes if "Write" in operations else reads).add(resource["name"])
                assert not {"Read", "Write"} <= operations
            else:
                assert (resource["type"], resource["patternType"]) == ("group", "prefix")
                groups.add(resource["name"])
        own = {f"metrology.{service}.v1"}
        if service in deploycheck.DLQ_SERVICES:
            own.add(f"metrology.{service}.dlq.v1")
        assert writes == own
        assert reads == {f"metrology.{r}.v1" for r in deploycheck.READS[service]}
        assert groups == ({f"{service}."} if deploycheck.READS[service] else set())


# ------------------------------------------------------------------ wiring and secrets
def test_database_urls_are_composed_from_the_cloudnativepg_app_secret(prod: Objects) -> None:
    clusters = by_kind(prod, "Cluster")
    for deployment in by_kind(prod, "Deployment").values():
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        initdb = clusters[f"{service}-db"]["spec"]["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"]) == (service, service)
        assert "secret" not in initdb  # the operator generates <cluster>-app
        for container in deploycheck.containers_of(deployment["spec"]["template"]["spec"]):
            env = env_of(container)
            assert env["PGUSER"]["valueFrom"]["secretKeyRef"] == {"name": f"{service}-db-app", "key": "username"}
            assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{service}-db-app", "key": "password"}
            url = env[f"{service.upper()}_DATABASE_URL"]["value"]
            assert url.startswith(f"postgresql+asyncpg://$(PGUSER):$(PGPASSWORD)@{service}-db-rw:5432/{service}")
            assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": service, "key": "password"}


def test_no_secret_values_are_committed(rendered: dict[str, Objects]) -> None:
    for objects in rendered.values():
        assert deploycheck.secret_problems(objects) == []
    for kustomization in deploycheck.K8S_DIR.rglob("kustomization.yaml"):
        assert "secretGenerator" not in yaml.safe_load(kustomization.read_text())


def test_backups_reference_the_object_store_secret_by_name_only(prod: Objects) -> None:
    (store,) = by_kind(prod, "ObjectStore").values()
    credentials = store["spec"]["configuration"]["s3Credentials"]
    assert {ref["name"] for ref in credentials.values()} == {"metrology-backup-s3"}
    for cluster in by_kind(prod, "Cluster").values():
        (plugin,) = cluster["spec"]["plugins"]
        assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert {b["spec"]["cluster"]["name"] for b in by_kind(prod, "ScheduledBackup").values()} == set(
        by_kind(prod, "Cluster")
    )


# ------------------------------------------------------------------ network
def test_network_policies_deny_by_default_and_each_service_reaches_only_kafka_and_its_database(
    prod: Objects,
) -> None:
    policies = by_kind(prod, "NetworkPolicy")
    deny = policies["default-deny-all"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for service, port in deploycheck.SERVICES.items():
        egress = policies[f"{service}-egress"]["spec"]["egress"]
        targets = [(rule["to"][0]["podSelector"]["matchLabels"], rule["ports"][0]["port"]) for rule in egress]
        assert targets == [
            ({"strimzi.io/cluster": "metrology", "strimzi.io/broker-role": "true"}, 9093),
            ({"cnpg.io/cluster": f"{service}-db"}, 5432),
        ]
        ingress = policies[f"{service}-api-ingress"]["spec"]
        assert ingress["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
        assert [p["port"] for rule in ingress["ingress"] for p in rule["ports"]] == [port]
        db_sources = policies[f"{service}-db"]["spec"]["ingress"][0]["from"]
        assert db_sources[0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == service


# ------------------------------------------------------------------ the checks can fail
def _broken_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "k8s"
    shutil.copytree(deploycheck.K8S_DIR, copy)
    topics = copy / "base" / "kafka-topics.yaml"
    topics.write_text(topics.read_text().replace("  partitions: 12\n", "  partitionz: 12\n", 1))
    registry = copy / "base" / "registry.yaml"
    text = registry.read_text()
    text = text.replace("  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  replicaz: 2\n", 1)
    text = text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", 1)
    # The relay's liveness probe on /ready (only the relay's probes use port "probes").
    liveness = "          livenessProbe:\n            httpGet:\n              path: {}\n              port: probes\n"
    assert text.count(liveness.format("/health")) == 1
    text = text.replace(liveness.format("/health"), liveness.format("/ready"))
    registry.write_text(text)
    return copy / "overlays" / "prod"


def test_a_deliberately_broken_manifest_fails_validation_for_the_right_reasons(
    deploy_tools: None, tmp_path: Path
) -> None:
    objects = deploycheck.render(_broken_copy(tmp_path))

    # Only the kinds that were broken (and their siblings) keep the test fast.
    builtin = deploycheck.validate_builtin(o for o in objects if o["kind"] == "Deployment")
    assert builtin and all("Deployment/registry-api" in p for p in builtin)
    assert any("'replicaz' was unexpected" in p for p in builtin)

    crds = deploycheck.validate_crds([("broken", o) for o in objects if o["kind"].startswith("Kafka")])
    assert len(crds) == 1
    assert "KafkaTopic/metrology-registry-v1" in crds[0] and 'unknown field "partitionz"' in crds[0]

    security = deploycheck.security_problems(objects)
    assert security == ["Deployment/registry-api container migrate: readOnlyRootFilesystem must be true"]

    wrong_liveness = "Deployment/registry-relay container relay: livenessProbe must GET /health (has '/ready')"
    assert deploycheck.probe_problems(objects) == [wrong_liveness]
    assert deployment_probe_problems(objects) == [wrong_liveness]


def test_a_kafka_topic_without_infinite_retention_fails_the_prod_rules(prod: Objects) -> None:
    topics = [yaml.safe_load(yaml.safe_dump(o)) for o in prod if o["kind"] == "KafkaTopic"]
    topics[0]["spec"]["config"]["retention.ms"] = 604800000
    topics[1]["spec"]["replicas"] = 2
    problems = deploycheck.topic_problems(topics, replicas=3, min_isr=2)
    assert len(problems) == 2
    assert "retention.ms must be -1" in problems[0] and "replicas 2 != 3" in problems[1]
