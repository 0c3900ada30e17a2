import gc

import pytest
import uvicorn
from typer.testing import CliRunner

from metrology.eventkit.events import EventRegistry
from metrology.servicekit.cli import service_cli
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


class _Cycle:
    def __init__(self) -> None:
        self.itself = self


def test_what_a_process_holds_when_settled_is_left_out_of_later_collections(collector_restored):
    held = [_Cycle() for _ in range(1_000)]
    frozen = settle_garbage_collector(5_000)
    assert frozen >= len(held)
    assert gc.get_threshold()[0] == 5_000
    del held  # 1,000 cycles become garbage; unfrozen, the next full collection would find them all
    assert gc.collect() < 1_000  # frozen, no collection scans them: the price of a frozen object that later dies


def test_garbage_made_after_settling_is_still_collected(collector_restored):
    settle_garbage_collector(5_000)
    for _ in range(100):
        _Cycle()
    assert gc.collect() >= 100


def test_the_young_threshold_is_read_from_the_environment_and_has_a_floor(monkeypatch):
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", "25000")
    assert ServiceSettings.from_env("training").gc_young_threshold == 25_000
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", "10")
    with pytest.raises(ValueError, match="gc_young_threshold"):
        ServiceSettings.from_env("training")


def test_the_folds_young_threshold_is_read_from_the_environment_and_has_a_floor(monkeypatch):
    assert ServiceSettings.from_env("training").gc_young_threshold_folds == 100_000
    monkeypatch.setenv("TRAINING_GC_YOUNG_THRESHOLD_FOLDS", "250000")
    assert ServiceSettings.from_env("training").gc_young_threshold_folds == 250_000
    monkeypatch.setenv("TRAINING_GC_YOUNG_THRESHOLD_FOLDS", "10")
    with pytest.raises(ValueError, match="gc_young_threshold_folds"):
        ServiceSettings.from_env("training")


def _run_probe_service(command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object, threshold: int) -> None:
    """Run `command` with GC_YOUNG_THRESHOLD at `threshold` and GC_YOUNG_THRESHOLD_FOLDS at ten times as much."""
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/probe.db")
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", str(threshold))
    monkeypatch.setenv("GC_YOUNG_THRESHOLD_FOLDS", str(threshold * 10))
    cli = service_cli("probe", lambda settings: new_runtime(settings, EventRegistry(), []))
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 0, result.output


def _collector_now(seen: dict[str, int]) -> None:
    seen["threshold"] = gc.get_threshold()[0]
    seen["frozen"] = gc.get_freeze_count()


def test_serve_settles_the_collector_once_the_app_is_wired(monkeypatch, tmp_path, collector_restored):
    seen: dict[str, int] = {}

    async def serve_nothing(server: uvicorn.Server) -> None:
        _collector_now(seen)
        server.started = True

    async def schema_of_nothing(rt: ServiceRuntime) -> None:
        return None

    monkeypatch.setattr(ServiceRuntime, "migrate", schema_of_nothing)  # the probe service has no migrations
    monkeypatch.setattr(uvicorn.Server, "serve", serve_nothing)
    _run_probe_service("serve", monkeypatch, tmp_path, 12_345)
    assert seen["threshold"] == 12_345
    assert seen["frozen"] > 0


def test_rebuild_settles_the_collector_before_it_replays(monkeypatch, tmp_path, collector_restored):
    from metrology.servicekit import replay_commands

    seen: dict[str, int] = {}

    async def replay_nothing(rt: object, names: list[str], *options: object) -> list[object]:
        _collector_now(seen)
        return []

    monkeypatch.setattr(replay_commands, "subscriptions_named", lambda rt, name: [])
    monkeypatch.setattr(replay_commands, "_rebuild_all", replay_nothing)
    _run_probe_service("rebuild", monkeypatch, tmp_path, 23_456)
    assert seen["threshold"] == 234_560, "a rebuild folds: the folds' threshold"
    assert seen["frozen"] > 0


@pytest.mark.parametrize(("command", "threshold"), [("consume", 345_670), ("relay", 34_567)])
def test_consume_settles_with_the_folds_threshold_and_the_relay_with_the_processes_one(
    monkeypatch, tmp_path, collector_restored, command, threshold
):
    from metrology.servicekit import cli

    seen: dict[str, int] = {}
    monkeypatch.setattr(cli, "_run_until_signalled", lambda main: _collector_now(seen))
    _run_probe_service(command, monkeypatch, tmp_path, 34_567)
    assert seen["threshold"] == threshold
