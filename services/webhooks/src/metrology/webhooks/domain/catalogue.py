"""The event types the platform publishes (docs/events.md), from which a subscription chooses.

Kept as data here, since the bridge imports no other service; the contract test
`tests/contracts/test_webhook_catalogue.py` checks it against every producer's event registry.
"""

from __future__ import annotations

SOURCES = ("registry", "verification", "outreach", "training", "reporting")

_NAMES = {
    "registry": [
        "enterprise-registered",
        "enterprise-updated",
        "enterprise-closed",
        "provider-registered",
        "provider-designated",
        "designation-renewed",
        "designation-revoked",
        "verifier-certified",
        "verifier-suspended",
        "verifier-reinstated",
        "laboratory-registered",
        "laboratory-accredited",
        "laboratory-assessed",
        "standard-registered",
        "instrument-registered",
        "instrument-status-changed",
    ],
    "verification": ["work-recorded", "certificate-issued", "certificate-revoked", "instrument-marked-unfit"],
    "outreach": [
        "enterprise-enrolled",
        "current-state-assessed",
        "plan-approved",
        "support-delivered",
        "annual-evaluation-recorded",
        "enterprise-withdrawn",
        "participation-completed",
        "access-recorded",
        "campaign-held",
    ],
    "training": [
        "course-scheduled",
        "trainee-registered",
        "trainee-enrolled",
        "attendance-recorded",
        "trainee-assessed",
        "trainee-completed",
        "trainee-erased",
    ],
    "reporting": ["target-status-changed"],
}

PUBLISHED_TYPES: frozenset[str] = frozenset(
    f"vn.metrology.{service}.{name}.v1" for service, names in _NAMES.items() for name in names
)


def source_of(type_name: str) -> str:
    """The service that publishes `type_name` (`vn.metrology.<service>.<fact>.v<N>`)."""
    return type_name.split(".")[2]
