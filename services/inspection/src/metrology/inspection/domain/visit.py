"""The Visit aggregate: one inspection visit and everything its record (biên bản) holds.

Findings, violations, decisions and follow-up orders live inside the visit because every rule between them
is a rule of the one record: a violation rests on findings of the visit, a decision on its violations, a
follow-up verification on an instrument found there.

- A finding names an instrument by its registry id, or by type and serial when it is not registered; a lot
  of prepackaged goods by its product. The registry replica decides "registered" and "overdue": an
  unregistered instrument gets the `not-registered` defect, a registered one without a valid verification on
  the visit date the `overdue` defect, each with its own event for the registry and for reporting.
- A violation rests on findings with defects; a decision settles violations not yet decided (a fine names its
  amount); a follow-up verification is due after the visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.inspection.domain.events import (
    DecisionIssued,
    Defect,
    FindingRecorded,
    FollowUpVerificationOrdered,
    InstrumentFoundUnregistered,
    OverdueInstrumentFound,
    Sanction,
    Subject,
    VerificationStatus,
    ViolationRecorded,
    VisitRecorded,
)
from metrology.inspection.domain.plan import Campaign

INSTRUMENT_DEFECTS = frozenset({"no-stamp", "overdue", "out-of-tolerance", "seal-broken", "not-registered"})
GOODS_DEFECTS = frozenset({"quantity-short", "label-wrong"})


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registry replica knows of a registered instrument (and of its certificates)."""

    instrument_id: str
    type_code: str
    serial: str
    owner_enterprise_id: str | None
    commune_code: str
    verified: bool = False  # a certificate in force is on record
    valid_until: date | None = None  # its last day (None with `verified`: no periodic verification)

    def verification_on(self, day: date) -> VerificationStatus:
        if self.verified and (self.valid_until is None or day <= self.valid_until):
            return "valid"
        return "overdue"


@dataclass(frozen=True, slots=True)
class Sighting:
    """What the inspectors note on one item: the instrument (by id, or type and serial) or the goods lot."""

    subject: Subject
    defects: tuple[Defect, ...] = ()
    instrument_id: str | None = None
    type_code: str | None = None
    serial: str | None = None
    product: str | None = None
    note: str | None = None

    def check_identity(self) -> None:
        if self.subject == "prepackaged-goods":
            if not self.product or self.instrument_id or self.type_code or self.serial:
                raise RuleViolationError(
                    "prepackaged goods are named by their product, not as an instrument",
                    field="product",
                    rule="finding-identity",
                )
            return
        by_id = bool(self.instrument_id)
        by_type_and_serial = bool(self.type_code and self.serial)
        if by_id == by_type_and_serial or (by_id and (self.type_code or self.serial)) or self.product:
            raise RuleViolationError(
                "an instrument is named by its registry id, or by type and serial when it is not registered",
                field="instrument_id",
                rule="finding-identity",
            )

    def check_defects(self) -> None:
        allowed = GOODS_DEFECTS if self.subject == "prepackaged-goods" else INSTRUMENT_DEFECTS
        wrong = sorted(set(self.defects) - allowed)
        if wrong:
            raise RuleViolationError(
                f"{', '.join(wrong)} is not a defect of {self.subject}", field="defects", rule="finding-defects"
            )


class Visit(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.visit_id = ""
        self.visited_on = date.min
        self.venue_name = ""
        self.commune_code = ""
        self.enterprise_id: str | None = None
        self.findings: dict[str, FindingRecorded] = {}
        self.violations: set[str] = set()
        self.decided: set[str] = set()
        self.decisions: set[str] = set()
        self.ordered: set[str] = set()

    def when(self, event: DomainEvent) -> None:
        match event:
            case VisitRecorded():
                self.visit_id, self.visited_on = event.visit_id, event.occurred_on
                self.venue_name, self.commune_code = event.venue_name, event.commune_code
                self.enterprise_id = event.enterprise_id
            case FindingRecorded():
                self.findings[event.finding_id] = event
            case ViolationRecorded():
                self.violations.add(event.violation_id)
            case DecisionIssued():
                self.decided.update(event.violation_ids)
                self.decisions.add(event.decision_number)
            case FollowUpVerificationOrdered():
                self.ordered.add(event.finding_id)

    # -- the visit -----------------------------------------------------------------------------------

    def record_visit(self, campaign: Campaign, event: VisitRecorded) -> None:
        if self.exists:
            raise ConflictError(f"visit {event.visit_id} is already recorded", rule="visit-exists")
        if not campaign.covers_day(event.occurred_on):
            raise RuleViolationError(
                f"the visit falls outside its campaign ({campaign.starts_on} to {campaign.ends_on})",
                field="visited_on",
                rule="visit-in-campaign",
            )
        if event.venue_kind not in campaign.venue_kinds:
            raise RuleViolationError(
                f"the campaign does not cover venues of kind {event.venue_kind}",
                field="venue_kind",
                rule="venue-outside-campaign",
            )
        self.record(event)

    # -- findings ------------------------------------------------------------------------------------

    def record_finding(
        self, finding_id: str, sighting: Sighting, registration: Registration | None, campaign: Campaign
    ) -> FindingRecorded:
        sighting.check_identity()
        sighting.check_defects()
        if sighting.subject == "prepackaged-goods":
            if not campaign.prepackaged_goods:
                raise RuleViolationError(
                    "the campaign does not cover prepackaged goods", field="subject", rule="goods-outside-campaign"
                )
            return self._record_goods(finding_id, sighting)
        if sighting.instrument_id and registration is None:
            raise RuleViolationError(
                f"no registered instrument {sighting.instrument_id} in this province",
                field="instrument_id",
                rule="instrument-unknown",
            )
        type_code = registration.type_code if registration else str(sighting.type_code)
        if not campaign.covers_type(type_code):
            raise RuleViolationError(
                f"the campaign does not cover instrument type {type_code}", field="type_code",
                rule="type-outside-campaign",
            )  # fmt: skip
        self._not_found_twice(sighting, registration)
        if registration is None:
            return self._record_unregistered(finding_id, sighting)
        return self._record_registered(finding_id, sighting, registration)

    def _record_goods(self, finding_id: str, sighting: Sighting) -> FindingRecorded:
        return self._finding(
            finding_id, sighting, list(sighting.defects), "not-applicable", "not-applicable", product=sighting.product
        )

    def _record_unregistered(self, finding_id: str, sighting: Sighting) -> FindingRecorded:
        type_code, serial = str(sighting.type_code), str(sighting.serial)
        defects = _with(sighting.defects, "not-registered")
        finding = self._finding(
            finding_id, sighting, defects, "unregistered", "unknown", type_code=type_code, serial=serial,
            owner_enterprise_id=self.enterprise_id,
        )  # fmt: skip
        self.record(
            InstrumentFoundUnregistered(
                occurred_on=self.visited_on,
                visit_id=self.visit_id,
                finding_id=finding_id,
                type_code=type_code,
                serial=serial,
                enterprise_id=self.enterprise_id,
                venue_name=self.venue_name,
                commune_code=self.commune_code,
            )
        )
        return finding

    def _record_registered(self, finding_id: str, sighting: Sighting, known: Registration) -> FindingRecorded:
        status = known.verification_on(self.visited_on)
        defects = _with(sighting.defects, "overdue") if status == "overdue" else list(sighting.defects)
        finding = self._finding(
            finding_id, sighting, defects, "registered", status, instrument_id=known.instrument_id,
            type_code=known.type_code, serial=known.serial, owner_enterprise_id=known.owner_enterprise_id,
            valid_until=known.valid_until,
        )  # fmt: skip
        if status == "overdue":
            self.record(
                OverdueInstrumentFound(
                    occurred_on=self.visited_on,
                    visit_id=self.visit_id,
                    finding_id=finding_id,
                    instrument_id=known.instrument_id,
                    type_code=known.type_code,
                    owner_enterprise_id=known.owner_enterprise_id,
                    commune_code=known.commune_code,
                    valid_until=known.valid_until,
                )
            )
        return finding

    def _finding(self, finding_id: str, sighting: Sighting, defects: list[Defect], *statuses: str,
                 **named: object) -> FindingRecorded:  # fmt: skip
        registry_status, verification_status = statuses
        event = FindingRecorded.model_validate(
            {
                "occurred_on": self.visited_on,
                "visit_id": self.visit_id,
                "finding_id": finding_id,
                "subject": sighting.subject,
                "defects": defects,
                "registry_status": registry_status,
                "verification_status": verification_status,
                "note": sighting.note,
                **named,
            }
        )
        self.record(event)
        return event

    def _not_found_twice(self, sighting: Sighting, known: Registration | None) -> None:
        for finding in self.findings.values():
            same_id = known is not None and finding.instrument_id == known.instrument_id
            same_serial = known is None and (finding.type_code, finding.serial) == (sighting.type_code, sighting.serial)
            if finding.subject == "instrument" and (same_id or same_serial):
                raise ConflictError(
                    "this instrument already has a finding in the visit", field="instrument_id", rule="finding-exists"
                )

    # -- violations, decisions, follow-ups -----------------------------------------------------------

    def record_violation(self, violation_id: str, finding_ids: list[str], legal_basis: str, description: str) -> None:
        if not finding_ids:
            raise RuleViolationError("a violation rests on findings", field="finding_ids", rule="violation-findings")
        for finding_id in finding_ids:
            if not self._finding_of_visit(finding_id, "finding_ids").defects:
                raise RuleViolationError(
                    f"finding {finding_id} found nothing wrong", field="finding_ids", rule="finding-compliant"
                )
        self.record(
            ViolationRecorded(
                occurred_on=self.visited_on, visit_id=self.visit_id, violation_id=violation_id,
                finding_ids=finding_ids, legal_basis=legal_basis, description=description,
            )
        )  # fmt: skip

    def issue_decision(self, decision: DecisionIssued) -> None:
        if not decision.violation_ids:
            raise RuleViolationError("a decision settles violations", field="violation_ids", rule="decision-violations")
        for violation_id in decision.violation_ids:
            if violation_id not in self.violations:
                raise RuleViolationError(
                    f"no violation {violation_id} in this visit", field="violation_ids", rule="violation-unknown"
                )
            if violation_id in self.decided:
                raise ConflictError(
                    f"violation {violation_id} is already decided", field="violation_ids", rule="violation-decided"
                )
        if decision.decision_number in self.decisions:
            raise ConflictError("this decision number is already used", field="decision_number", rule="decision-exists")
        _check_sanction(decision.sanction, decision.fine_vnd)
        self._not_before_visit(decision.occurred_on, "issued_on")
        self.record(decision)

    def order_follow_up(self, order_id: str, finding_id: str, ordered_on: date, due_on: date) -> None:
        finding = self._finding_of_visit(finding_id, "finding_id")
        if finding.subject != "instrument":
            raise RuleViolationError(
                "a follow-up verification is for an instrument", field="finding_id", rule="follow-up-instrument"
            )
        if finding_id in self.ordered:
            raise ConflictError("a follow-up is already ordered for this finding", field="finding_id",
                                rule="follow-up-exists")  # fmt: skip
        self._not_before_visit(ordered_on, "ordered_on")
        if due_on <= ordered_on:
            raise RuleViolationError(
                "a follow-up verification is due after it is ordered", field="due_on", rule="follow-up-due-date"
            )
        self.record(
            FollowUpVerificationOrdered(
                occurred_on=ordered_on, visit_id=self.visit_id, order_id=order_id, finding_id=finding_id,
                instrument_id=finding.instrument_id, type_code=str(finding.type_code), serial=finding.serial,
                owner_enterprise_id=finding.owner_enterprise_id, due_on=due_on,
            )
        )  # fmt: skip

    def _finding_of_visit(self, finding_id: str, field: str) -> FindingRecorded:
        finding = self.findings.get(finding_id)
        if finding is None:
            raise RuleViolationError(f"no finding {finding_id} in this visit", field=field, rule="finding-unknown")
        return finding

    def _not_before_visit(self, day: date, field: str) -> None:
        if day < self.visited_on:
            raise RuleViolationError(
                f"this cannot be dated before the visit ({self.visited_on})", field=field, rule="dated-before-visit"
            )


def _with(defects: tuple[Defect, ...], extra: Defect) -> list[Defect]:
    return [*defects, extra] if extra not in defects else list(defects)


def _check_sanction(sanction: Sanction, fine_vnd: int) -> None:
    if (sanction == "fine") != (fine_vnd > 0):
        raise RuleViolationError(
            "a fine names its amount, and only a fine has one", field="fine_vnd", rule="decision-fine"
        )
