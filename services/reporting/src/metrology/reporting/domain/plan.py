"""The provincial plan as data: targets with a metric, a threshold, a deadline, a counting window and a region."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from metrology.reporting.domain.tasks import Task, check_unique


class Metric(StrEnum):
    DEMAND_COVERAGE = "demand-coverage"
    SOCIALISED_PROVIDERS = "socialised-providers"
    PERSON_TIMES_TRAINED = "person-times-trained"
    ENTERPRISE_TIMES = "enterprise-times"
    ACCREDITED_LABS = "accredited-labs"

    @property
    def is_share(self) -> bool:
        return self is Metric.DEMAND_COVERAGE


class Comparison(StrEnum):
    GREATER = ">"
    AT_LEAST = ">="
    ABOUT = "~"

    def holds(self, value: float, threshold: float) -> bool:
        """`~` (the plan's "about") is read as "at least": reaching the figure meets the target."""
        return value > threshold if self is Comparison.GREATER else value >= threshold


class RollUp(StrEnum):
    """How a merged province's target adds up the former provinces' (the tenants of `Plan.rolls_up`)."""

    SUM = "sum"  # the former provinces' counts added
    RECOMPUTE = "recompute"  # a share computed again from their numerators and denominators (met / demand)


class Status(StrEnum):
    NOT_STARTED = "not-started"
    ON_TRACK = "on-track"
    AT_RISK = "at-risk"
    MET = "met"
    MISSED = "missed"


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Window(BaseModel):
    """The dates whose facts count towards the target (inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self

    def clamp(self, day: date) -> date:
        return min(day, self.end)


class Region(BaseModel):
    """Where the work must be: province codes (old and new) and, for a city, commune codes (old and new)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Text
    metric: Metric
    comparison: Comparison
    threshold: float = Field(ge=0)
    deadline: date
    window: Window
    region: Region = Region()
    criteria: str | None = None
    roll_up: RollUp | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.metric.is_share and self.threshold > 1:
            raise ValueError("a share's threshold is a fraction between 0 and 1")
        if self.metric.is_share and self.roll_up is RollUp.SUM:
            raise ValueError("shares do not add up: a share rolls up with 'recompute'")
        if self.deadline < self.window.start:
            raise ValueError("the deadline is before the counting window starts")
        return self


class FormerPlan(BaseModel):
    """A former province's plan that a merged province's plan rolls up, and the tenant its facts are under."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    plan: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    tenant: str = Field(min_length=1)


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    tenant: str = Field(min_length=1)
    title: Text
    decision: str | None = None
    region: Region = Region()
    rolls_up: tuple[FormerPlan, ...] = ()
    targets: tuple[Target, ...] = Field(min_length=1)
    tasks: tuple[Task, ...] = ()  # the plan's tasks beside its targets (see domain/tasks.py)

    @model_validator(mode="after")
    def _rolls_up_something(self) -> Plan:
        if any(t.roll_up for t in self.targets) and not self.rolls_up:
            raise ValueError("a target rolls up, but the plan names no former plans in 'rolls_up'")
        return self

    def tenants_of(self, target: Target) -> tuple[str, ...]:
        """Whose facts the target counts: the plan's tenant, and for a rolled-up target the former plans' too."""
        if target.roll_up is None:
            return (self.tenant,)
        return tuple(dict.fromkeys([self.tenant, *(former.tenant for former in self.rolls_up)]))

    @model_validator(mode="after")
    def _unique_targets(self) -> Plan:
        ids = [target.id for target in self.targets]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"target ids must be unique: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _unique_tasks(self) -> Plan:
        check_unique(self.tasks)
        return self

    def target(self, target_id: str) -> Target | None:
        return next((t for t in self.targets if t.id == target_id), None)

    def defining_target(self, metric: Metric) -> Target | None:
        """The target whose region and criteria define `metric` for this plan (one definition per KPI): of the
        plan's targets on that metric, the one with the latest deadline; None when no target reads it."""
        targets = [t for t in self.targets if t.metric is metric]
        return max(targets, key=lambda t: t.deadline) if targets else None

    def region_of(self, target: Target) -> Region:
        """The target's own region, else the plan's."""
        return target.region if (target.region.provinces or target.region.communes) else self.region
