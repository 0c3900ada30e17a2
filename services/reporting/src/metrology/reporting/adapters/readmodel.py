"""The reporting read model: the facts the KPIs count, one table per kind, keyed so a fact is stored once.

Facts that arrive on different topics (a retirement and the registration it refers to, say) may come in any
order, so each kind of fact has a table of its own and the KPIs join them when asked.

Every fact keeps two dates: its business date (`completed_on`, `verified_on`, ...: when it happened, from the
event's `occurred_on`) and `recorded_at` (when the platform recorded it: the envelope's `time`). A KPI "as of"
a date counts facts by the first; "as known on" a time it also leaves out the facts recorded after that time.
A fact stored again (an upsert of an enterprise's sector, a certificate replacing a computed due date) keeps
the `recorded_at` of its first recording.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from metrology.reporting.domain.plan import Metric

metadata = sa.MetaData()


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(16), primary_key=True)


def _recorded() -> sa.Column[datetime]:
    """When the fact was recorded (the event's `time`, UTC); NULL for facts folded before the column existed."""
    return sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True)


def _id(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(100), primary_key=True)


completions = sa.Table(
    "kpi_training_completions",
    metadata,
    _tenant(),
    _recorded(),
    _id("course_id"),
    _id("trainee_id"),
    sa.Column("completed_on", sa.Date, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
)
sa.Index("ix_kpi_completions_day", completions.c.tenant, completions.c.completed_on)
sa.Index("ix_kpi_completions_trainee", completions.c.tenant, completions.c.trainee_id, completions.c.completed_on)

# The day of each trainee's first passed completion, kept by the projection from the completions in the same
# transaction (adapters/aggregates.py): the people trained by a day are a count over this table's index, not a
# count(DISTINCT) over every completion. Derived, so it has no recording time: "as known on" reads the facts.
trainees = sa.Table(
    "kpi_training_trainees",
    metadata,
    _tenant(),
    _id("trainee_id"),
    sa.Column("first_completed_on", sa.Date, nullable=False),
)
sa.Index("ix_kpi_trainees_first", trainees.c.tenant, trainees.c.first_completed_on)

# How many trainees passed their first completion on each day, kept with `trainees` (people trained by a day are a
# sum of a few hundred rows a year, not a count over every trainee's row).
first_days = sa.Table(
    "kpi_training_first_days",
    metadata,
    _tenant(),
    sa.Column("first_completed_on", sa.Date, primary_key=True),
    sa.Column("trainees", sa.Integer, nullable=False),
)

# The passed completions of each course on each day, kept by the projection from the completions in the same
# transaction (adapters/aggregates.py): person-times and their breakdowns sum these rows (a course's trainees
# complete on a few days) instead of counting every completion. Derived: "as known on" reads the facts.
course_days = sa.Table(
    "kpi_training_course_days",
    metadata,
    _tenant(),
    _id("course_id"),
    sa.Column("completed_on", sa.Date, primary_key=True),
    sa.Column("completions", sa.Integer, nullable=False),
)
sa.Index("ix_kpi_course_days_day", course_days.c.tenant, course_days.c.completed_on)

# The passed completions of each day, every course summed, moved with `course_days`: person-times without
# breakdowns and its series sum a row a day (a few hundred a year), not a row per course and day.
training_days = sa.Table(
    "kpi_training_days",
    metadata,
    _tenant(),
    sa.Column("completed_on", sa.Date, primary_key=True),
    sa.Column("completions", sa.Integer, nullable=False),
)

# The field of training of each course (person-times by field); a completion whose course is not here yet counts
# under no field.
courses = sa.Table(
    "kpi_training_courses",
    metadata,
    _tenant(),
    _recorded(),
    _id("course_id"),
    sa.Column("topic", sa.String(300), nullable=True),
    sa.Column("field", sa.String(100), nullable=True),
)

enterprises = sa.Table(
    "kpi_enterprises",
    metadata,
    _tenant(),
    _recorded(),
    _id("enterprise_id"),
    sa.Column("sector", sa.String(100), nullable=True),
    sa.Column("commune_code", sa.String(16), nullable=True),
)

enrolments = sa.Table(
    "kpi_enrolments",
    metadata,
    _tenant(),
    _recorded(),
    _id("participation_id"),
    sa.Column("enterprise_id", sa.String(100), nullable=False),
    sa.Column("enrolled_on", sa.Date, nullable=False),
)
sa.Index("ix_kpi_enrolments_enterprise", enrolments.c.tenant, enrolments.c.enterprise_id)

withdrawals = sa.Table(
    "kpi_withdrawals",
    metadata,
    _tenant(),
    _recorded(),
    _id("participation_id"),
    sa.Column("withdrawn_on", sa.Date, nullable=False),
)

enterprise_jobs = sa.Table(
    "kpi_enterprise_jobs",
    metadata,
    _tenant(),
    _recorded(),
    _id("job_key"),
    sa.Column("enterprise_id", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    # the enterprise took part in the programme on the job's date: kept by the projection in the batch's
    # transaction (adapters/aggregates.py), for the jobs it wrote and for every job of an enterprise whose
    # enrolments or withdrawals it wrote; a job is written false until then (a replay flags the enrolled ones at
    # its end, rewriting no other row). NULL in no row the projection keeps. "As known on" reads the enrolments
    # instead.
    sa.Column("enrolled", sa.Boolean, nullable=True),
)
sa.Index("ix_kpi_jobs_day", enterprise_jobs.c.tenant, enterprise_jobs.c.occurred_on)

# The enrolled jobs of each day, counted per channel, per sector and per commune of the enterprise (one row per
# dimension and key: `dimension` is "channel", "sector" or "commune"; `key` NULL for an enterprise not registered
# yet), kept by the projection with the jobs (adapters/aggregates.py): enterprise-times, its series and its
# breakdowns sum a few rows a day instead of counting every job. Derived: "as known on" reads the facts.
enterprise_days = sa.Table(
    "kpi_enterprise_days",
    metadata,
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False),
    sa.Column("dimension", sa.String(16), nullable=False),
    sa.Column("key", sa.String(100), nullable=True),
    sa.Column("jobs", sa.Integer, nullable=False),
)
sa.Index(
    "ix_kpi_enterprise_days_day", enterprise_days.c.tenant, enterprise_days.c.dimension, enterprise_days.c.occurred_on
)
ENTERPRISE_DIMENSIONS = ("channel", "sector", "commune")

# The date of each enterprise's first enrolled job, kept with `enterprise_days`: the unique enterprises of a window
# are those whose first job falls in it, and those with an earlier one who have a job in it again.
enterprise_firsts = sa.Table(
    "kpi_enterprise_firsts",
    metadata,
    _tenant(),
    _id("enterprise_id"),
    sa.Column("first_on", sa.Date, nullable=False),
)
sa.Index("ix_kpi_enterprise_firsts_first", enterprise_firsts.c.tenant, enterprise_firsts.c.first_on)

providers = sa.Table(
    "kpi_providers",
    metadata,
    _tenant(),
    _recorded(),
    _id("provider_id"),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("ownership", sa.String(16), nullable=False),
    sa.Column("province_code", sa.String(8), nullable=False),
)

designations = sa.Table(
    "kpi_designations",
    metadata,
    _tenant(),
    _recorded(),
    _id("designation_id"),
    sa.Column("provider_id", sa.String(100), nullable=False),
    sa.Column("instrument_types", sa.JSON, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
)

renewals = sa.Table(
    "kpi_designation_renewals",
    metadata,
    _tenant(),
    _recorded(),
    _id("designation_id"),
    sa.Column("renewed_on", sa.Date, primary_key=True),
    sa.Column("valid_until", sa.Date, primary_key=True),
)

revocations = sa.Table(
    "kpi_designation_revocations",
    metadata,
    _tenant(),
    _recorded(),
    _id("designation_id"),
    sa.Column("revoked_on", sa.Date, nullable=False),
)

laboratories = sa.Table(
    "kpi_laboratories",
    metadata,
    _tenant(),
    _recorded(),
    _id("laboratory_id"),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("commune_code", sa.String(16), nullable=True),
)

accreditations = sa.Table(
    "kpi_accreditations",
    metadata,
    _tenant(),
    _recorded(),
    _id("laboratory_id"),
    _id("accreditation_number"),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
)

assessments = sa.Table(
    "kpi_assessments",
    metadata,
    _tenant(),
    _recorded(),
    _id("event_id"),
    sa.Column("laboratory_id", sa.String(100), nullable=False),
    sa.Column("criteria", sa.String(100), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=False),
)

instruments = sa.Table(
    "kpi_instruments",
    metadata,
    _tenant(),
    _recorded(),
    _id("instrument_id"),
    sa.Column("type_code", sa.String(32), nullable=False),
    sa.Column("commune_code", sa.String(16), nullable=True),
    sa.Column("registered_on", sa.Date, nullable=False),
)

retirements = sa.Table(
    "kpi_retirements",
    metadata,
    _tenant(),
    _recorded(),
    _id("instrument_id"),
    sa.Column("retired_on", sa.Date, nullable=False),
)

due_dates = sa.Table(
    "kpi_due_dates",
    metadata,
    _tenant(),
    _recorded(),
    _id("instrument_id"),
    _id("source"),  # "registration" (initial verification) or the job id of a passed verification
    sa.Column("due_on", sa.Date, nullable=False),
)
sa.Index("ix_kpi_due_day_instrument", due_dates.c.tenant, due_dates.c.due_on, due_dates.c.instrument_id)

# The due dates that are demand (of a registered instrument not retired before the date), each with the
# instrument's type and commune and the instrument's previous demand date (in (due_on, source) order): kept by the
# projection for the instruments a batch touched, from the due dates, instruments and retirements stored
# (adapters/aggregates.py). Demand coverage reads a range of it by date instead of joining the due dates with
# every instrument, and counts an instrument once in [a, b] as its row with `prev_due_on` before a (or none).
# Derived, so it has no recording time: "as known on" reads the facts.
demand_dates = sa.Table(
    "kpi_demand_dates",
    metadata,
    _tenant(),
    _id("instrument_id"),
    _id("source"),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("type_code", sa.String(32), nullable=False),
    sa.Column("commune_code", sa.String(16), nullable=True),
    sa.Column("prev_due_on", sa.Date, nullable=True),
)
# the columns coverage reads, in the index: a year of demand dates is read from the index alone (PostgreSQL)
sa.Index(
    "ix_kpi_demand_day",
    demand_dates.c.tenant,
    demand_dates.c.due_on,
    demand_dates.c.instrument_id,
    postgresql_include=["prev_due_on", "commune_code", "type_code"],
)

verifications = sa.Table(
    "kpi_verifications",
    metadata,
    _tenant(),
    _recorded(),
    _id("job_id"),
    sa.Column("instrument_id", sa.String(100), nullable=False),
    sa.Column("provider_id", sa.String(100), nullable=False),
    sa.Column("provider_province_code", sa.String(8), nullable=True),
    sa.Column("verified_on", sa.Date, nullable=False),
)
# demand coverage: "verified in the period" per due instrument, and the period's verifications by date
sa.Index(
    "ix_kpi_verifications_instrument_day",
    verifications.c.tenant,
    verifications.c.instrument_id,
    verifications.c.verified_on,
)
sa.Index("ix_kpi_verifications_day", verifications.c.tenant, verifications.c.verified_on)

# Each verification of an instrument with its neighbours, kept by the projection beside the demand dates for the
# instruments a batch touched (adapters/aggregates.py): the instrument's previous verification by a provider of
# the same province and by any provider (in (verified_on, job_id) order), and its latest demand date on or before
# the verification and earliest on or after it. So "the instrument was due in [a, b] and a provider of the
# province verified it in [a, b]" is a count of the rows in [a, b] that are the instrument's first there and have
# a demand date in [a, b] on either side: no set of instruments to hash per request. Derived: "as known on" reads
# the facts.
verification_dates = sa.Table(
    "kpi_verification_dates",
    metadata,
    _tenant(),
    _id("instrument_id"),
    _id("job_id"),
    sa.Column("provider_id", sa.String(100), nullable=False),
    sa.Column("provider_province_code", sa.String(8), nullable=True),
    sa.Column("verified_on", sa.Date, nullable=False),
    sa.Column("type_code", sa.String(32), nullable=True),  # the instrument's (none while it is not registered)
    sa.Column("commune_code", sa.String(16), nullable=True),
    sa.Column("prev_same_province_on", sa.Date, nullable=True),
    sa.Column("prev_verified_on", sa.Date, nullable=True),
    sa.Column("due_before_on", sa.Date, nullable=True),
    sa.Column("due_after_on", sa.Date, nullable=True),
)
sa.Index("ix_kpi_verification_dates_day", verification_dates.c.tenant, verification_dates.c.verified_on)
# the columns coverage reads of a year of local verifications (all but the job), in the province-day index
# (PostgreSQL): read from it alone
VERIFICATION_DATES_READ = [
    c.name
    for c in verification_dates.columns
    if c.name not in ("tenant", "provider_province_code", "verified_on", "job_id")
]
sa.Index(
    "ix_kpi_verification_dates_province_day",
    verification_dates.c.tenant,
    verification_dates.c.provider_province_code,
    verification_dates.c.verified_on,
    postgresql_include=VERIFICATION_DATES_READ,
)

# instruments found in use without a valid verification at a state inspection (demand not met, seen on site)
found_overdue = sa.Table(
    "kpi_found_overdue",
    metadata,
    _tenant(),
    _recorded(),
    _id("finding_id"),
    sa.Column("instrument_id", sa.String(100), nullable=False),
    sa.Column("type_code", sa.String(32), nullable=False),
    sa.Column("found_on", sa.Date, nullable=False),
)
sa.Index("ix_kpi_found_overdue_day", found_overdue.c.tenant, found_overdue.c.found_on)

target_statuses = sa.Table(
    "reporting_target_statuses",
    metadata,
    sa.Column("plan_id", sa.String(100), primary_key=True),
    sa.Column("target_id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
)

# One row per tenant, bumped in every projector batch transaction that wrote facts of the tenant: readers cache
# their answers by (epoch, version). A rebuild deletes the rows, so the next batch starts a new epoch at 1.
read_model_versions = sa.Table(
    "reporting_read_model_versions",
    metadata,
    sa.Column("tenant", sa.String(16), primary_key=True),
    sa.Column("epoch", sa.String(32), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

FACT_TABLES = [t for t in metadata.sorted_tables if t is not target_statuses and t is not read_model_versions]

# Which KPIs read each table: a batch that wrote none of a metric's tables cannot have moved its targets.
METRICS_OF: dict[sa.Table, frozenset[Metric]] = {
    completions: frozenset({Metric.PERSON_TIMES_TRAINED}),
    courses: frozenset({Metric.PERSON_TIMES_TRAINED}),
    enterprises: frozenset({Metric.ENTERPRISE_TIMES}),
    enrolments: frozenset({Metric.ENTERPRISE_TIMES}),
    withdrawals: frozenset({Metric.ENTERPRISE_TIMES}),
    enterprise_jobs: frozenset({Metric.ENTERPRISE_TIMES}),
    providers: frozenset({Metric.SOCIALISED_PROVIDERS, Metric.DEMAND_COVERAGE}),
    designations: frozenset({Metric.SOCIALISED_PROVIDERS, Metric.DEMAND_COVERAGE}),
    renewals: frozenset({Metric.SOCIALISED_PROVIDERS, Metric.DEMAND_COVERAGE}),
    revocations: frozenset({Metric.SOCIALISED_PROVIDERS, Metric.DEMAND_COVERAGE}),
    laboratories: frozenset({Metric.ACCREDITED_LABS}),
    accreditations: frozenset({Metric.ACCREDITED_LABS}),
    assessments: frozenset({Metric.ACCREDITED_LABS}),
    instruments: frozenset({Metric.DEMAND_COVERAGE}),
    retirements: frozenset({Metric.DEMAND_COVERAGE}),
    due_dates: frozenset({Metric.DEMAND_COVERAGE}),
    verifications: frozenset({Metric.DEMAND_COVERAGE}),
    found_overdue: frozenset({Metric.DEMAND_COVERAGE}),
}

# The business date of each kind of dated fact, for the report of late facts (due dates are derived from the
# registrations and verifications listed there, so they are not listed themselves).
BUSINESS_DATES: dict[sa.Table, str] = {
    completions: "completed_on",
    enrolments: "enrolled_on",
    withdrawals: "withdrawn_on",
    enterprise_jobs: "occurred_on",
    designations: "valid_from",
    renewals: "renewed_on",
    revocations: "revoked_on",
    accreditations: "recorded_on",
    assessments: "assessed_on",
    instruments: "registered_on",
    retirements: "retired_on",
    verifications: "verified_on",
    found_overdue: "found_on",
}
