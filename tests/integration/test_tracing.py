"""One trace from the HTTP request, through the event store and Kafka headers, into the reporting projector."""

import asyncio

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from metrology.reporting.bootstrap import bootstrap as reporting_bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.observability import configure_tracing
from metrology.testkit import infra
from metrology.training.bootstrap import bootstrap as training_bootstrap
from metrology.training.settings import TrainingSettings

pytestmark = pytest.mark.integration

SECRET = "trace-secret-0123456789abcdef0123456789"


async def test_the_projector_continues_the_trace_of_the_request_that_wrote_the_event(kafka, tmp_path):
    exporter = InMemorySpanExporter()
    common = {
        "kafka_bootstrap_servers": kafka.bootstrap_servers,
        "kafka_topic_prefix": infra.topic_prefix("trace"),
        "auth_jwt_secret": SECRET,
    }
    provider = configure_tracing(TrainingSettings.from_env("training", **common), exporter)
    training = training_bootstrap(
        TrainingSettings.from_env("training", database_url=f"sqlite:///{tmp_path}/training.db", **common)
    )
    reporting = reporting_bootstrap(
        ReportingSettings.from_env("reporting", database_url=f"sqlite:///{tmp_path}/reporting.db", **common)
    )
    training_app, reporting_app = create_app(training, with_workers=True), create_app(reporting, with_workers=True)
    headers = {"Authorization": f"Bearer {issue_dev_token(SECRET, 'tracer', ['trainer', 'viewer'])}"}
    course = {
        "title": "Đo lường cơ bản",
        "topic": "basics",
        "organiser": "TĐC",
        "starts_on": "2025-01-06",
        "ends_on": "2025-01-07",
    }

    async with (
        training_app.router.lifespan_context(training_app),
        reporting_app.router.lifespan_context(reporting_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=training_app), base_url="http://t") as trainer,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=reporting_app), base_url="http://r") as reports,
    ):
        course_id = (await trainer.post("/courses", json=course, headers=headers)).json()["id"]
        trainee = {
            "full_name": "Trần Thị Bình",
            "date_of_birth": "1990-01-01",
            "id_number": "083190000001",
            "organisation_kind": "enterprise",
        }
        trainee_id = (await trainer.post("/trainees", json=trainee, headers=headers)).json()["id"]
        enrolment = {"trainee_id": trainee_id, "enrolled_on": "2025-01-02"}
        assert (
            await trainer.post(f"/courses/{course_id}/trainees", json=enrolment, headers=headers)
        ).status_code == 201
        completion = {"trainee_id": trainee_id, "passed": True, "completed_on": "2025-01-07"}
        response = await trainer.post(f"/courses/{course_id}/completions", json=completion, headers=headers)
        assert response.status_code == 201
        for _ in range(150):
            kpi = await reports.get("/kpis/person-times-trained", params={"as_of": "2025-12-31"}, headers=headers)
            if kpi.json()["value"] == 1:
                break
            await asyncio.sleep(0.2)
        assert kpi.json()["value"] == 1

    assert provider is not None
    provider.force_flush()
    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.name == "POST /courses/{course_id}/completions")
    projected = next(s for s in spans if s.name == "project vn.metrology.training.trainee-completed.v1")
    same_trace = [s for s in spans if s.context.trace_id == request.context.trace_id]
    assert projected.context.trace_id == request.context.trace_id
    assert any(s.name.startswith(("INSERT", "SELECT")) for s in same_trace), "the store's SQL is in the trace"
