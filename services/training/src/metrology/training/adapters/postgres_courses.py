"""A course's enrolments and completions on PostgreSQL: the event and the query tables' changes in one statement
(`UnitOfWork.append_with_views`), and the trainee's look-up on the driver, so that a command with no idempotency
record to write sends no BEGIN or COMMIT. The same rows as the portable statements in `application.handlers`."""

from __future__ import annotations

from metrology.eventkit.events import DomainEvent
from metrology.eventkit.store import VIEW_PARAMETERS_FROM as FIRST
from metrology.eventkit.store import Views, ViewWrites
from metrology.training.domain.events import TraineeCompleted, TraineeEnrolled

# The events go in whenever the stream is where they follow on: the gate is the guard itself.
_ADMITTED = "admitted AS (SELECT 1 FROM guard WHERE guard.ok)"

ENROL = Views(
    ctes=f"""{_ADMITTED},
    enrolment AS (
        INSERT INTO enrolments (course_id, trainee_id, enrolled_on, days_present)
        SELECT ${FIRST}::text, ${FIRST + 1}::text, ${FIRST + 2}::date, 0 FROM admitted
        RETURNING course_id
    ),
    counted AS (
        UPDATE courses SET enrolled = enrolled + 1 WHERE course_id IN (SELECT course_id FROM enrolment)
    )""",
    gate="admitted",
)

COMPLETE = Views(
    ctes=f"""{_ADMITTED},
    completion AS (
        UPDATE enrolments
        SET passed = ${FIRST + 2}::boolean, certificate_number = ${FIRST + 3}::text, completed_on = ${FIRST + 4}::date
        WHERE course_id = ${FIRST}::text AND trainee_id = ${FIRST + 1}::text AND EXISTS (SELECT 1 FROM admitted)
        RETURNING course_id
    ),
    counted AS (
        UPDATE courses SET completed = completed + 1, passed = passed + ${FIRST + 5}::int
        WHERE course_id IN (SELECT course_id FROM completion)
    )""",
    gate="admitted",
)

TRAINEE = "SELECT tenant, erased_on FROM trainees WHERE trainee_id = $1"


def view_writes(pending: list[DomainEvent]) -> ViewWrites | None:
    """The query tables' writes beside the event, for a command that raised one enrolment or one completion; None
    for anything else (its rows are written statement by statement)."""
    match pending:
        case [TraineeEnrolled() as enrolled]:
            return ViewWrites(ENROL, [enrolled.course_id, enrolled.trainee_id, enrolled.occurred_on])
        case [TraineeCompleted() as done]:
            values = [done.passed, done.certificate_number, done.occurred_on, int(done.passed)]
            return ViewWrites(COMPLETE, [done.course_id, done.trainee_id, *values])
    return None
