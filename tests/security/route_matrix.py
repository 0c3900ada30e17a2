"""Who may call each route of each service, and whose data it reaches: the authorization matrix as data.

Every route of every service's OpenAPI has one entry; a route added without one fails
`test_every_route_of_every_service_has_an_entry_in_the_matrix`. An entry names the roles let through (none: the
route is public) and the scope rule:

- `public`: no token needed and no province's records in the answer (probes, schemas, public checks, the
  public dashboard of anonymised figures);
- `tenant`: only records of the caller's province (the `tenant` claim), whichever role;
- `own-provider`: as `tenant`, and a provider reaches only its own records / acts only in its own name;
- `own-enterprise`: as `tenant`, and an enterprise reaches only its own records.

`own-provider` and `own-enterprise` together mean: a provider sees its own, an enterprise its own, the province's
staff everything of their province.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from metrology.servicekit.auth import Role


class Scope(StrEnum):
    PUBLIC = "public"
    TENANT = "tenant"
    OWN_PROVIDER = "own-provider"
    OWN_ENTERPRISE = "own-enterprise"


ADMIN = Role.PROVINCE_ADMIN
VIEWER = Role.VIEWER
PROVIDER = Role.PROVIDER
ENTERPRISE = Role.ENTERPRISE
TRAINER = Role.TRAINER
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[Role]
    scopes: frozenset[Scope]

    @property
    def public(self) -> bool:
        return Scope.PUBLIC in self.scopes


def allow(*roles: Role, scope: Scope | tuple[Scope, ...] = Scope.TENANT) -> Access:
    scopes = scope if isinstance(scope, tuple) else (scope,)
    return Access(frozenset(roles), frozenset(scopes))


PUBLIC = Access(frozenset(), frozenset({Scope.PUBLIC}))
ANY_SIGNED_IN = allow(*Role, scope=Scope.PUBLIC)  # a token is needed; the answer holds no province's records
TENANT_ADMIN = allow(ADMIN)
OWN = (Scope.TENANT, Scope.OWN_PROVIDER, Scope.OWN_ENTERPRISE)
OPERATIONS = {("GET", path): PUBLIC for path in ("/health", "/ready", "/freshness", "/metrics", "/asyncapi.json")}

# providers, laboratories and standards are the province's public register: every reader of the province sees them
REGISTRY_READER = allow(ADMIN, VIEWER, PROVIDER, ENTERPRISE)
# enterprises and instruments: an enterprise sees only its own
REGISTRY_OWN_READER = allow(ADMIN, VIEWER, PROVIDER, ENTERPRISE, scope=(Scope.TENANT, Scope.OWN_ENTERPRISE))
VERIFICATION_READER = allow(ADMIN, VIEWER, PROVIDER, ENTERPRISE, scope=OWN)
DUE_DATES_READER = allow(ADMIN, VIEWER, PROVIDER, ENTERPRISE, scope=(Scope.TENANT, Scope.OWN_ENTERPRISE))
OUTREACH_READER = allow(ADMIN, VIEWER, ENTERPRISE, TRAINER, scope=(Scope.TENANT, Scope.OWN_ENTERPRISE))
TRAINING_READER = allow(ADMIN, TRAINER, VIEWER)
TRAINING_WRITER = allow(ADMIN, TRAINER)
INSPECTION_READER = allow(ADMIN, VIEWER)

MATRIX: dict[str, dict[tuple[str, str], Access]] = {
    "registry": OPERATIONS
    | {
        ("POST", "/enterprises"): TENANT_ADMIN,
        ("GET", "/enterprises"): REGISTRY_OWN_READER,
        ("PATCH", "/enterprises/{enterprise_id}"): TENANT_ADMIN,
        ("GET", "/enterprises/{enterprise_id}"): REGISTRY_OWN_READER,
        ("POST", "/enterprises/{enterprise_id}/closure"): TENANT_ADMIN,
        ("DELETE", "/enterprises/{enterprise_id}/contact"): TENANT_ADMIN,
        ("GET", "/enterprises/by-tax-code/{tax_code}"): REGISTRY_OWN_READER,
        ("POST", "/providers"): TENANT_ADMIN,
        ("GET", "/providers"): REGISTRY_READER,
        ("POST", "/providers/{provider_id}/designations"): TENANT_ADMIN,
        ("POST", "/providers/{provider_id}/designations/{designation_id}/renewals"): TENANT_ADMIN,
        ("POST", "/providers/{provider_id}/designations/{designation_id}/revocation"): TENANT_ADMIN,
        ("POST", "/providers/{provider_id}/verifiers"): TENANT_ADMIN,
        ("POST", "/providers/{provider_id}/verifiers/{verifier_id}/suspension"): TENANT_ADMIN,
        ("POST", "/providers/{provider_id}/verifiers/{verifier_id}/reinstatement"): TENANT_ADMIN,
        ("DELETE", "/providers/{provider_id}/verifiers/{verifier_id}/personal-data"): TENANT_ADMIN,
        ("GET", "/providers/by-registration/{number}"): REGISTRY_READER,
        ("GET", "/providers/{provider_id}"): REGISTRY_READER,
        ("POST", "/laboratories"): TENANT_ADMIN,
        ("GET", "/laboratories"): REGISTRY_READER,
        ("POST", "/laboratories/{laboratory_id}/accreditations"): TENANT_ADMIN,
        ("POST", "/laboratories/{laboratory_id}/assessments"): TENANT_ADMIN,
        ("GET", "/laboratories/by-registration/{number}"): REGISTRY_READER,
        ("GET", "/laboratories/{laboratory_id}"): REGISTRY_READER,
        ("POST", "/standards"): TENANT_ADMIN,
        ("GET", "/standards"): REGISTRY_READER,
        ("GET", "/standards/{standard_id}"): REGISTRY_READER,
        ("GET", "/standards/{standard_id}/chain"): REGISTRY_READER,
        ("POST", "/instruments"): TENANT_ADMIN,
        ("GET", "/instruments"): REGISTRY_OWN_READER,
        ("POST", "/instruments/{instrument_id}/status"): TENANT_ADMIN,
        ("GET", "/instruments/by-serial"): REGISTRY_OWN_READER,
        ("GET", "/instruments/{instrument_id}"): REGISTRY_OWN_READER,
        ("POST", "/imports/enterprises"): TENANT_ADMIN,
        ("POST", "/imports/instruments"): TENANT_ADMIN,
        ("GET", "/registration-requests"): allow(ADMIN, VIEWER),
        ("GET", "/events/schemas"): PUBLIC,
    },
    "verification": OPERATIONS
    | {
        ("POST", "/jobs"): allow(ADMIN, PROVIDER, scope=(Scope.TENANT, Scope.OWN_PROVIDER)),
        ("GET", "/jobs"): VERIFICATION_READER,
        ("GET", "/jobs/by-reference/{external_reference}"): VERIFICATION_READER,
        ("GET", "/jobs/{job_id}"): VERIFICATION_READER,
        ("GET", "/certificates"): VERIFICATION_READER,
        ("GET", "/certificates/{number}"): VERIFICATION_READER,
        ("GET", "/certificates/{number}/dcc.json"): VERIFICATION_READER,
        ("GET", "/certificates/{number}/qr.svg"): VERIFICATION_READER,
        ("GET", "/certificates/{number}/print"): VERIFICATION_READER,
        ("POST", "/certificates/{number}/revocations"): allow(
            ADMIN, PROVIDER, scope=(Scope.TENANT, Scope.OWN_PROVIDER)
        ),
        # due dates: a provider plans its work over the whole province's instruments, an enterprise sees its own
        ("GET", "/due-dates"): DUE_DATES_READER,
        ("GET", "/due-dates/overdue"): DUE_DATES_READER,
        ("POST", "/enterprise-services"): allow(ADMIN, PROVIDER, scope=(Scope.TENANT, Scope.OWN_PROVIDER)),
        ("GET", "/enterprise-services"): VERIFICATION_READER,
        ("POST", "/imports/enterprise-services"): allow(ADMIN, PROVIDER, scope=(Scope.TENANT, Scope.OWN_PROVIDER)),
        ("GET", "/demand"): allow(ADMIN, VIEWER),
        ("GET", "/replica"): allow(ADMIN, VIEWER),
        ("GET", "/events/schemas"): ANY_SIGNED_IN,
        ("GET", "/public/certificates/check"): PUBLIC,
        ("GET", "/public/certificates/{number}"): PUBLIC,
    },
    "outreach": OPERATIONS
    | {
        ("POST", "/participations"): TENANT_ADMIN,
        ("GET", "/participations"): OUTREACH_READER,
        ("POST", "/participations/{participation_id}/assessment"): TENANT_ADMIN,
        ("POST", "/participations/{participation_id}/plan"): TENANT_ADMIN,
        ("POST", "/participations/{participation_id}/support"): TENANT_ADMIN,
        ("POST", "/participations/{participation_id}/evaluations"): TENANT_ADMIN,
        ("POST", "/participations/{participation_id}/completion"): TENANT_ADMIN,
        ("POST", "/participations/{participation_id}/withdrawal"): TENANT_ADMIN,
        ("DELETE", "/participations/{participation_id}/contact"): TENANT_ADMIN,
        ("GET", "/participations/{participation_id}"): OUTREACH_READER,
        ("POST", "/participations/{participation_id}/accesses"): TENANT_ADMIN,
        ("GET", "/accesses"): OUTREACH_READER,
        ("POST", "/campaigns"): TENANT_ADMIN,
        ("GET", "/campaigns"): OUTREACH_READER,
        ("GET", "/enterprises"): TENANT_ADMIN,
        ("GET", "/events/schemas"): ANY_SIGNED_IN,
    },
    "training": OPERATIONS
    | {
        ("POST", "/courses"): TRAINING_WRITER,
        ("GET", "/courses"): TRAINING_READER,
        ("GET", "/courses/{course_id}"): TRAINING_READER,
        ("POST", "/courses/{course_id}/trainees"): TRAINING_WRITER,
        ("GET", "/courses/{course_id}/trainees"): TRAINING_READER,
        ("POST", "/courses/{course_id}/attendance"): TRAINING_WRITER,
        ("POST", "/courses/{course_id}/assessments"): TRAINING_WRITER,
        ("POST", "/courses/{course_id}/completions"): TRAINING_WRITER,
        ("POST", "/courses/{course_id}/attendance/import"): TRAINING_WRITER,
        ("POST", "/trainees"): TRAINING_WRITER,
        ("GET", "/trainees"): TRAINING_READER,
        ("GET", "/trainees/{trainee_id}"): TRAINING_READER,
        ("DELETE", "/trainees/{trainee_id}/personal-data"): TRAINING_WRITER,
        ("GET", "/events/schemas"): ANY_SIGNED_IN,
    },
    # reporting: with REPORTING_PUBLIC_DASHBOARD (the default) anonymous readers choose a province; a token reads
    # its own province only (another province's plan is 404)
    "reporting": OPERATIONS
    | {
        ("GET", "/plans"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/plans/{plan_id}/progress"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/plans/{plan_id}/targets/{target_id}"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/plans/{plan_id}/report.{fmt}"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/plans/{plan_id}/tasks"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("POST", "/plans/{plan_id}/tasks/{task_id}/progress"): TENANT_ADMIN,
        ("GET", "/plans/{plan_id}/reports/{year}.{fmt}"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/changes"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/plans/{plan_id}/changes"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/national"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),  # totals across tenants only
        ("GET", "/kpis/{metric}"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/kpis/{metric}/series"): allow(*Role, scope=(Scope.PUBLIC, Scope.TENANT)),
        ("GET", "/"): PUBLIC,
        ("GET", "/static/{name}"): PUBLIC,
    },
    "webhooks": OPERATIONS
    | {
        ("GET", "/event-types"): ANY_SIGNED_IN,
        ("POST", "/subscriptions"): TENANT_ADMIN,
        ("GET", "/subscriptions"): TENANT_ADMIN,
        ("GET", "/subscriptions/{subscription_id}"): TENANT_ADMIN,
        ("DELETE", "/subscriptions/{subscription_id}"): TENANT_ADMIN,
        ("POST", "/subscriptions/{subscription_id}/pause"): TENANT_ADMIN,
        ("POST", "/subscriptions/{subscription_id}/resume"): TENANT_ADMIN,
        ("POST", "/subscriptions/{subscription_id}/secret"): TENANT_ADMIN,
        ("GET", "/subscriptions/{subscription_id}/dead-letters"): TENANT_ADMIN,
        ("POST", "/subscriptions/{subscription_id}/redeliver"): TENANT_ADMIN,
    },
    # state inspection: the province's inspectors record, its staff read; an inspected enterprise reads nothing here
    "inspection": OPERATIONS
    | {
        ("POST", "/plans"): TENANT_ADMIN,
        ("GET", "/plans"): INSPECTION_READER,
        ("GET", "/plans/{plan_id}"): INSPECTION_READER,
        ("POST", "/campaigns"): TENANT_ADMIN,
        ("GET", "/campaigns"): INSPECTION_READER,
        ("GET", "/campaigns/{campaign_id}"): INSPECTION_READER,
        ("POST", "/visits"): TENANT_ADMIN,
        ("GET", "/visits"): INSPECTION_READER,
        ("GET", "/visits/{visit_id}"): INSPECTION_READER,
        ("POST", "/visits/{visit_id}/findings"): TENANT_ADMIN,
        ("POST", "/visits/{visit_id}/violations"): TENANT_ADMIN,
        ("POST", "/visits/{visit_id}/decisions"): TENANT_ADMIN,
        ("POST", "/visits/{visit_id}/follow-ups"): TENANT_ADMIN,
        ("GET", "/findings"): INSPECTION_READER,
        ("GET", "/follow-ups"): INSPECTION_READER,
        ("GET", "/summary"): INSPECTION_READER,
        ("GET", "/watchlist"): INSPECTION_READER,
        ("GET", "/instruments"): INSPECTION_READER,
    },
}
