"""The traceability chain of a working standard, frozen into each certificate it served.

Standard → the calibration that made it traceable → the higher standard it was calibrated against → … up to the
national standard. Each link is the standard as it stood on the job's date (its latest calibration then), so a
certificate keeps the chain it was issued under, whatever later recalibrations change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, ConfigDict

MAX_LINKS = 12  # a chain longer than any real hierarchy (working → reference → secondary → national) is a loop


class TraceabilityLink(BaseModel):
    """One standard of the chain and the calibration that links it to the next (`calibrated_against`, or the
    national standard when it was calibrated against one directly)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    standard_id: str
    name: str | None = None
    level: str
    quantity: str
    certificate_number: str | None = None
    calibrated_on: date
    due_on: date
    calibrated_against: str | None = None
    national_standard: str | None = None


def chain(start: str, link_of: Callable[[str], TraceabilityLink | None]) -> list[TraceabilityLink]:
    """The links from `start` upwards, as far as the replica knows them (a loop or an unknown standard ends it)."""
    links: list[TraceabilityLink] = []
    seen: set[str] = set()
    current: str | None = start
    while current is not None and current not in seen and len(links) < MAX_LINKS:
        seen.add(current)
        link = link_of(current)
        if link is None:
            break
        links.append(link)
        current = link.calibrated_against
    return links


def reaches_national_standard(links: list[TraceabilityLink]) -> bool:
    return bool(links) and links[-1].national_standard is not None and links[-1].calibrated_against is None
