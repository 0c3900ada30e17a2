"""The subscription's rules, in memory."""

from datetime import UTC, date, datetime

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.webhooks.domain.catalogue import PUBLISHED_TYPES, source_of
from metrology.webhooks.domain.events import SecretRotated, SubscriptionCreated
from metrology.webhooks.domain.subscription import Subscription

TODAY = date(2025, 6, 1)
COMPLETED = "vn.metrology.training.trainee-completed.v1"


def created(url: str = "https://erp.example.vn/hooks", types: list[str] | None = None) -> SubscriptionCreated:
    return SubscriptionCreated(
        occurred_on=TODAY, subscription_id="s-1", target_url=url, event_types=types or [COMPLETED], secret_id="k-1"
    )


def active() -> Subscription:
    subscription = Subscription()
    subscription.create(created())
    return Subscription.replay(subscription.pending)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8080/in", "https://erp.example.vn/hooks?tenant=83"])
def test_a_target_is_an_absolute_http_or_https_url(url):
    Subscription().create(created(url))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://erp.example.vn/in",
        "erp.example.vn/in",
        "https:///no-host",
        "https://user:pw@erp.example.vn/",
        "http://h/#x",
    ],
)
def test_other_targets_are_refused_on_the_target_url_field(url):
    with pytest.raises(RuleViolationError) as refused:
        Subscription().create(created(url))
    assert refused.value.field == "target_url"


def test_event_types_come_from_the_published_catalogue():
    with pytest.raises(RuleViolationError) as refused:
        Subscription().create(created(types=[COMPLETED, "vn.metrology.training.trainee-completed.v9"]))
    assert refused.value.rule == "event-type-unknown"
    assert "v9" in refused.value.detail


def test_event_types_are_named_once_and_at_least_one():
    for types in ([COMPLETED, COMPLETED], []):
        subscription = Subscription()
        with pytest.raises(RuleViolationError):
            subscription.create(created().model_copy(update={"event_types": types}))


def test_the_catalogue_names_types_of_the_five_producing_services():
    assert {source_of(t) for t in PUBLISHED_TYPES} == {"registry", "verification", "outreach", "training", "reporting"}
    assert all(t.startswith("vn.metrology.") and t.rsplit(".", 1)[1].startswith("v") for t in PUBLISHED_TYPES)


def test_a_subscription_is_paused_and_resumed_once_each():
    subscription = active()
    subscription.pause(TODAY)
    with pytest.raises(ConflictError):
        subscription.pause(TODAY)
    subscription.resume(TODAY)
    with pytest.raises(ConflictError):
        subscription.resume(TODAY)
    assert subscription.status == "active"


def test_a_receiver_gone_pause_is_remembered_with_its_reason():
    subscription = active()
    subscription.pause(TODAY, "receiver-gone")
    assert (subscription.status, subscription.pause_reason) == ("paused", "receiver-gone")


def test_a_deleted_subscription_takes_no_more_commands():
    subscription = active()
    subscription.delete(TODAY)
    for command in (
        lambda: subscription.pause(TODAY),
        lambda: subscription.resume(TODAY),
        lambda: subscription.delete(TODAY),
        lambda: subscription.rotate_secret(TODAY, "k-2", datetime.now(UTC)),
    ):
        with pytest.raises(ConflictError):
            command()


def test_a_rotation_names_the_new_and_the_previous_secret():
    subscription = active()
    subscription.rotate_secret(TODAY, "k-2", datetime(2025, 6, 2, tzinfo=UTC))
    event = subscription.pending[-1]
    assert isinstance(event, SecretRotated)
    assert (event.secret_id, event.previous_secret_id) == ("k-2", "k-1")
    assert subscription.secret_id == "k-2"
