"""The course's rules, in memory."""

from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.ids import new_id
from metrology.training.domain.course import Course
from metrology.training.domain.events import CourseScheduled, TraineeCompleted


def scheduled(pass_mark: int = 50, course_id: str = "c0ffee00-1") -> Course:
    course = Course()
    course.schedule(
        CourseScheduled(
            occurred_on=date(2025, 4, 1),
            course_id=course_id,
            title="Kiểm định cân",
            topic="scales",
            organiser="TĐC",
            starts_on=date(2025, 4, 1),
            ends_on=date(2025, 4, 3),
            pass_mark=pass_mark,
        )
    )
    return Course.replay(course.pending)


def test_a_course_cannot_end_before_it_starts():
    with pytest.raises(RuleViolationError) as refused:
        Course().schedule(
            CourseScheduled(
                occurred_on=date(2025, 4, 5),
                course_id="c",
                title="t",
                topic="t",
                organiser="o",
                starts_on=date(2025, 4, 5),
                ends_on=date(2025, 4, 1),
            )
        )
    assert refused.value.field == "ends_on"


def test_attendance_is_for_enrolled_trainees_on_days_of_the_course():
    course = scheduled()
    with pytest.raises(RuleViolationError) as refused:
        course.record_attendance("t1", date(2025, 4, 2), True)
    assert refused.value.rule == "trainee-not-enrolled"
    course.enrol("t1", date(2025, 3, 30))
    course.record_attendance("t1", date(2025, 4, 2), True)
    with pytest.raises(RuleViolationError) as refused:
        course.record_attendance("t1", date(2025, 4, 4), True)
    assert refused.value.field == "day"


def test_a_trainee_is_enrolled_once():
    course = scheduled()
    course.enrol("t1", date(2025, 3, 30))
    with pytest.raises(ConflictError):
        course.enrol("t1", date(2025, 3, 31))


def test_an_assessed_trainee_passes_only_at_or_above_the_pass_mark():
    course = scheduled(pass_mark=60)
    course.enrol("t1", date(2025, 3, 30))
    course.assess("t1", 55, date(2025, 4, 3))
    with pytest.raises(RuleViolationError) as refused:
        course.complete("t1", True, date(2025, 4, 3), None)
    assert refused.value.rule == "completion-score"
    course.complete("t1", False, date(2025, 4, 3), None)
    completed = course.pending[-1]
    assert isinstance(completed, TraineeCompleted)
    assert (completed.passed, completed.certificate_number, completed.score) == (False, None, 55)


def test_only_an_enrolled_trainee_can_complete_a_course():
    course = scheduled()
    with pytest.raises(RuleViolationError) as refused:
        course.complete("someone-else", True, date(2025, 4, 3), None)
    assert (refused.value.rule, refused.value.field) == ("trainee-not-enrolled", "trainee_id")
    assert course.pending == []


def test_a_passed_trainee_is_certified_with_a_number_and_completes_once():
    course = scheduled()
    course.enrol("t1", date(2025, 3, 30))
    course.complete("t1", True, date(2025, 4, 3), None)
    certified = course.pending[-1]
    assert isinstance(certified, TraineeCompleted)
    assert certified.certificate_number == "ĐT-C0FFEE00-001"
    with pytest.raises(ConflictError):
        course.complete("t1", True, date(2025, 4, 3), None)


def test_a_completion_is_not_dated_before_the_course_starts():
    course = scheduled()
    course.enrol("t1", date(2025, 3, 30))
    with pytest.raises(RuleViolationError) as refused:
        course.complete("t1", True, date(2025, 3, 31), None)
    assert refused.value.field == "completed_on"


def test_courses_scheduled_one_after_the_other_certify_under_numbers_of_their_own():
    numbers = []
    for course in (scheduled(course_id=new_id()), scheduled(course_id=new_id())):
        course.enrol("t1", date(2025, 3, 30))
        course.complete("t1", True, date(2025, 4, 3), None)
        numbers.append(course.pending[-1].certificate_number)

    assert numbers[0] != numbers[1]  # ids made in the same minute share their start: the number takes their end
