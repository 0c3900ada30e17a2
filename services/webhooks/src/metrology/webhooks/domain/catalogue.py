"""The event types and versions the platform publishes (contracts/, docs/events.md), from which a subscription chooses.

Kept as data here, since the bridge imports no other service and its image has no contracts/ folder; the unit test
`test_catalogue_matches_contracts.py` checks it against the published contracts. A subscription names exact versions:
it receives the versions it chose (and can read), nothing upcast.
"""

from __future__ import annotations

SOURCES = ("registry", "verification", "outreach", "training", "reporting")

_NAMES = {
    "registry": [
        "enterprise-registered.v1",
        "enterprise-updated.v1",
        "enterprise-closed.v1",
        "enterprise-contact-erased.v1",
        "provider-registered.v1",
        "provider-designated.v1",
        "designation-renewed.v1",
        "designation-revoked.v1",
        "verifier-certified.v1",
        "verifier-certified.v2",
        "verifier-certified.v3",
        "verifier-personal-data-erased.v1",
        "verifier-suspended.v1",
        "verifier-reinstated.v1",
        "laboratory-registered.v1",
        "laboratory-accredited.v1",
        "laboratory-assessed.v1",
        "standard-registered.v1",
        "instrument-registered.v1",
        "instrument-status-changed.v1",
    ],
    "verification": [
        "work-recorded.v1",
        "certificate-issued.v1",
        "certificate-revoked.v1",
        "instrument-marked-unfit.v1",
        "instrument-fell-overdue.v1",
        "enterprise-service-recorded.v1",
    ],
    "outreach": [
        "enterprise-enrolled.v1",
        "enterprise-enrolled.v2",
        "participation-contact-erased.v1",
        "current-state-assessed.v1",
        "plan-approved.v1",
        "plan-approved.v2",
        "support-delivered.v1",
        "annual-evaluation-recorded.v1",
        "enterprise-withdrawn.v1",
        "participation-completed.v1",
        "access-recorded.v1",
        "campaign-held.v1",
    ],
    "training": [
        "course-scheduled.v1",
        "trainee-registered.v1",
        "trainee-enrolled.v1",
        "attendance-recorded.v1",
        "trainee-assessed.v1",
        "trainee-completed.v1",
        "trainee-erased.v1",
    ],
    "reporting": ["target-status-changed.v1", "task-progress-recorded.v1"],
}

PUBLISHED_TYPES: frozenset[str] = frozenset(
    f"vn.metrology.{service}.{name}" for service, names in _NAMES.items() for name in names
)


def source_of(type_name: str) -> str:
    """The service that publishes `type_name` (`vn.metrology.<service>.<fact>.v<N>`)."""
    return type_name.split(".")[2]
