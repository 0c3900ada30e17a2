"""Logs go to the standard error of the moment, as JSON carrying the service's name."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from metrology.servicekit.observability import configure_logging
from metrology.servicekit.settings import ServiceSettings


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_record_logged_after_the_stderr_of_the_set_up_was_closed_goes_to_the_current_stderr(
    root_logging, monkeypatch
):
    runner_stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", runner_stderr)
    configure_logging(ServiceSettings.from_env("registry", log_json=True))
    runner_stderr.close()  # a CLI runner's captured stream, closed when the command returned
    current = io.StringIO()
    monkeypatch.setattr(sys, "stderr", current)

    logging.getLogger("alembic.runtime.migration").warning("Running %s", "registry_0001")

    line = json.loads(current.getvalue())
    assert (line["message"], line["level"], line["service"]) == ("Running registry_0001", "WARNING", "registry")
