"""The work a provider asks to record, and the rules it must meet against the registry as of its date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrology.eventkit.errors import RuleViolationError
from metrology.verification.domain.events import Kind, Measurement, Mode, Result, Subject
from metrology.verification.domain.facts import Designation, Facts


@dataclass(frozen=True, slots=True)
class Work:
    """One job as the provider describes it (the command's content)."""

    kind: Kind
    mode: Mode
    subject: Subject
    subject_id: str
    provider_id: str
    verifier_id: str
    procedure: str
    performed_on: date
    result: Result
    working_standard_id: str | None = None
    field: str | None = None
    measurements: tuple[Measurement, ...] = ()
    sticker_serial: str | None = None
    valid_until: date | None = None
    findings: str | None = None
    notes: str | None = None
    external_reference: str | None = None

    @property
    def is_instrument_verification(self) -> bool:
        return self.kind == "verification" and self.subject == "instrument"


def check_work(work: Work, facts: Facts, today: date) -> Designation | None:
    """Refuse work the registry (as of the job's date) does not allow; return the designation it relies on."""
    check_date(work, today)
    check_content(work)
    check_subject(work, facts)
    designation = check_designation(work, facts)
    check_verifier(work, facts, designation)
    check_working_standard(work, facts)
    return designation


def check_date(work: Work, today: date) -> None:
    if work.performed_on > today:
        raise RuleViolationError(
            f"work cannot be dated in the future ({work.performed_on.isoformat()})",
            field="performed_on",
            rule="performed-in-future",
        )


def check_content(work: Work) -> None:
    if work.kind == "calibration" and work.result == "pass" and not work.measurements:
        raise RuleViolationError(
            "a calibration certificate carries measured values with their expanded uncertainty",
            field="measurements",
            rule="calibration-needs-measurements",
        )
    for index, point in enumerate(work.measurements):
        if point.coverage_factor != 2:
            raise RuleViolationError(
                "expanded uncertainty is stated with a coverage factor k=2",
                field=f"measurements.{index}.coverage_factor",
                rule="coverage-factor-k2",
            )
    if work.subject == "standard" and work.kind == "verification" and work.mode == "cross-check":
        raise RuleViolationError(
            "cross-check verification applies to instruments", field="mode", rule="cross-check-instruments-only"
        )


def check_subject(work: Work, facts: Facts) -> None:
    if work.subject == "standard":
        if facts.standard_subject is None:
            raise RuleViolationError(
                f"no standard {work.subject_id} in the registry", field="subject_id", rule="standard-unknown"
            )
        return
    if facts.instrument is None:
        raise RuleViolationError(
            f"no instrument {work.subject_id} in the registry", field="subject_id", rule="instrument-unknown"
        )
    status = facts.instrument.status_on(work.performed_on)
    if status != "in-use":
        raise RuleViolationError(
            f"instrument {work.subject_id} is {status} on {work.performed_on.isoformat()}",
            field="subject_id",
            rule="instrument-not-in-use",
        )


def check_designation(work: Work, facts: Facts) -> Designation | None:
    if facts.provider is None:
        raise RuleViolationError(
            f"no provider {work.provider_id} in the registry", field="provider_id", rule="provider-unknown"
        )
    if not work.is_instrument_verification or facts.instrument is None:
        return None
    type_code = facts.instrument.type_code
    designation = facts.provider.designation_for(type_code, work.performed_on)
    if designation is None:
        raise RuleViolationError(
            f"provider {work.provider_id} holds no designation for type {type_code} "
            f"in force on {work.performed_on.isoformat()}",
            field="provider_id",
            rule="provider-not-designated",
        )
    return designation


def check_verifier(work: Work, facts: Facts, designation: Designation | None) -> None:
    verifier = facts.verifier
    if verifier is None or verifier.provider_id != work.provider_id:
        raise RuleViolationError(
            f"verifier {work.verifier_id} holds no card with provider {work.provider_id}",
            field="verifier_id",
            rule="verifier-unknown",
        )
    if verifier.certified_on > work.performed_on:
        raise RuleViolationError(
            f"verifier {work.verifier_id} was certified only on {verifier.certified_on.isoformat()}",
            field="verifier_id",
            rule="verifier-not-yet-certified",
        )
    if verifier.card_expired_on(work.performed_on):
        raise RuleViolationError(
            f"verifier {work.verifier_id}'s card expired on {verifier.card_valid_until}: "
            f"it was not valid on {work.performed_on.isoformat()}",
            field="verifier_id",
            rule="verifier-card-expired",
        )
    if verifier.suspended_on(work.performed_on):
        raise RuleViolationError(
            f"verifier {work.verifier_id} is suspended on {work.performed_on.isoformat()}",
            field="verifier_id",
            rule="verifier-suspended",
        )
    fields = work_fields(work, designation)
    if fields and not verifier.holds_any(fields):
        raise RuleViolationError(
            f"verifier {work.verifier_id}'s card does not cover the field ({', '.join(sorted(fields))})",
            field="verifier_id",
            rule="verifier-field-not-covered",
        )


def work_fields(work: Work, designation: Designation | None) -> frozenset[str]:
    """The field the work belongs to: as stated, or else the fields of the designation it relies on."""
    if work.field:
        return frozenset({work.field})
    return designation.fields if designation else frozenset()


def check_working_standard(work: Work, facts: Facts) -> None:
    if work.working_standard_id is None:
        if work.is_instrument_verification:
            raise RuleViolationError(
                "a verification names the working standard it used",
                field="working_standard_id",
                rule="working-standard-required",
            )
        return
    standard = facts.working_standard
    if standard is None:
        raise RuleViolationError(
            f"no standard {work.working_standard_id} in the registry",
            field="working_standard_id",
            rule="standard-unknown",
        )
    due_on = standard.due_on_for(work.performed_on)
    if due_on < work.performed_on:
        raise RuleViolationError(
            f"standard {standard.standard_id} was due for calibration on {due_on.isoformat()}",
            field="working_standard_id",
            rule="standard-calibration-expired",
        )
