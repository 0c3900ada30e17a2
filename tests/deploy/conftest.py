"""Fixtures for the deployment tests: tools installed once, overlays rendered once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "validate"))

import deploycheck  # noqa: E402


@pytest.fixture(scope="session")
def deploy_tools() -> None:
    """kustomize, the Node validators and hadolint (no-op when already installed)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "validate-deploy.sh"), "--install-only"], check=True)


@pytest.fixture(scope="session")
def rendered(deploy_tools: None) -> dict[str, list[dict[str, Any]]]:
    objects, problems = deploycheck.render_all()
    assert problems == []
    return objects


@pytest.fixture(scope="session")
def dev(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rendered["dev"]


@pytest.fixture(scope="session")
def prod(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rendered["prod"]


@pytest.fixture(scope="session")
def deployed(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: rendered[name] for name in deploycheck.DEPLOYED_TARGETS}
