"""The line a rebuild ends with."""

from metrology.eventkit.replay import ReplayProgress


def test_a_rebuild_s_line_gives_its_events_time_and_rate():
    assert ReplayProgress(1_000_000, 1_000_000, 50.0).described() == (
        "rebuilt 1000000 events in 50.0s (20,000 events/s)"
    )


def test_a_rebuild_s_line_gives_the_time_after_the_last_record_when_it_counts():
    assert ReplayProgress(1_000_000, 1_000_000, 50.0, finishing=12.34).described() == (
        "rebuilt 1000000 events in 50.0s (20,000 events/s; 12.3s of it after the last record)"
    )
    assert ReplayProgress(10, 10, 0.5, finishing=0.04).described() == "rebuilt 10 events in 0.5s (20 events/s)"
