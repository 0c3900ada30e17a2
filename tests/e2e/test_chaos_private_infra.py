"""The chaos suite's private Kafka and PostgreSQL: a port taken between choosing it and binding it does not stop
the run, and a broker that cannot start leaves nothing running behind it."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def infra(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """`chaos.infra`, importable as `python -m chaos` finds it: from the repository's root."""
    monkeypatch.syspath_prepend(str(REPO))
    return importlib.import_module("chaos.infra")


@contextmanager
def listener_on(port: int) -> Iterator[None]:
    """Something on the port that accepts connections and never answers as Kafka."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        held.listen()
        yield


def port_accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_free_ports_for_one_run_are_never_the_same_port_twice(infra: ModuleType) -> None:
    taken = set(infra.distinct_free_ports(3))
    more = infra.distinct_free_ports(5, taken=taken)
    assert len(set(more)) == 5 and not taken & set(more)


def test_the_broker_starts_on_fresh_ports_when_its_first_port_is_taken(infra: ModuleType) -> None:
    private = infra.PrivateInfra()
    first_port = private.kafka_port
    with listener_on(first_port):
        try:
            private.start()
            assert private.kafka_port != first_port
            assert port_accepts(private.kafka_port) and port_accepts(private.pg_port)
        finally:
            private.stop()
    assert not port_accepts(private.kafka_port) and not port_accepts(private.pg_port)
    assert not private.run_dir.exists()


def test_a_broker_that_never_starts_leaves_no_database_running(
    infra: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(infra, "KAFKA_START_ATTEMPTS", 1)
    private = infra.PrivateInfra()
    with listener_on(private.kafka_port), pytest.raises(RuntimeError, match=r"did not start \(attempts: 1\)"):
        private.start()
    assert not port_accepts(private.pg_port)
    assert not private.run_dir.exists()
