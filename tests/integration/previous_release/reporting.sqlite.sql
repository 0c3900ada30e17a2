-- The schema metrology-reporting created on sqlite in the release before migrations (commit 0221864),
-- as SQLAlchemy's create_all emitted it. Frozen: never edit.
CREATE TABLE events (
	position INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	txid BIGINT,
	event_id VARCHAR(36) NOT NULL,
	stream_id VARCHAR(200) NOT NULL,
	stream_version INTEGER NOT NULL,
	type VARCHAR(200) NOT NULL,
	recorded_at DATETIME NOT NULL,
	traceparent VARCHAR(55),
	payload BLOB NOT NULL,
	CONSTRAINT uq_events_stream_version UNIQUE (stream_id, stream_version),
	UNIQUE (event_id)
);

CREATE INDEX ix_events_txid_position ON events (txid, position);

CREATE TABLE processed_events (
	consumer VARCHAR(100) NOT NULL,
	event_id VARCHAR(36) NOT NULL,
	PRIMARY KEY (consumer, event_id)
);

CREATE TABLE relay_checkpoints (
	name VARCHAR(100) NOT NULL,
	txid BIGINT NOT NULL,
	position BIGINT NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE kpi_training_completions (
	tenant VARCHAR(16) NOT NULL,
	course_id VARCHAR(100) NOT NULL,
	trainee_id VARCHAR(100) NOT NULL,
	completed_on DATE NOT NULL,
	passed BOOLEAN NOT NULL,
	PRIMARY KEY (tenant, course_id, trainee_id)
);

CREATE INDEX ix_kpi_completions_day ON kpi_training_completions (tenant, completed_on);

CREATE TABLE kpi_enterprises (
	tenant VARCHAR(16) NOT NULL,
	enterprise_id VARCHAR(100) NOT NULL,
	sector VARCHAR(100),
	commune_code VARCHAR(16),
	PRIMARY KEY (tenant, enterprise_id)
);

CREATE TABLE kpi_enrolments (
	tenant VARCHAR(16) NOT NULL,
	participation_id VARCHAR(100) NOT NULL,
	enterprise_id VARCHAR(100) NOT NULL,
	enrolled_on DATE NOT NULL,
	PRIMARY KEY (tenant, participation_id)
);

CREATE INDEX ix_kpi_enrolments_enterprise ON kpi_enrolments (tenant, enterprise_id);

CREATE TABLE kpi_withdrawals (
	tenant VARCHAR(16) NOT NULL,
	participation_id VARCHAR(100) NOT NULL,
	withdrawn_on DATE NOT NULL,
	PRIMARY KEY (tenant, participation_id)
);

CREATE TABLE kpi_enterprise_jobs (
	tenant VARCHAR(16) NOT NULL,
	job_key VARCHAR(100) NOT NULL,
	enterprise_id VARCHAR(100) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	occurred_on DATE NOT NULL,
	PRIMARY KEY (tenant, job_key)
);

CREATE INDEX ix_kpi_jobs_day ON kpi_enterprise_jobs (tenant, occurred_on);

CREATE TABLE kpi_providers (
	tenant VARCHAR(16) NOT NULL,
	provider_id VARCHAR(100) NOT NULL,
	name VARCHAR(300) NOT NULL,
	ownership VARCHAR(16) NOT NULL,
	province_code VARCHAR(8) NOT NULL,
	PRIMARY KEY (tenant, provider_id)
);

CREATE TABLE kpi_designations (
	tenant VARCHAR(16) NOT NULL,
	designation_id VARCHAR(100) NOT NULL,
	provider_id VARCHAR(100) NOT NULL,
	instrument_types JSON NOT NULL,
	valid_from DATE NOT NULL,
	valid_until DATE NOT NULL,
	PRIMARY KEY (tenant, designation_id)
);

CREATE TABLE kpi_designation_renewals (
	tenant VARCHAR(16) NOT NULL,
	designation_id VARCHAR(100) NOT NULL,
	renewed_on DATE NOT NULL,
	valid_until DATE NOT NULL,
	PRIMARY KEY (tenant, designation_id, renewed_on, valid_until)
);

CREATE TABLE kpi_designation_revocations (
	tenant VARCHAR(16) NOT NULL,
	designation_id VARCHAR(100) NOT NULL,
	revoked_on DATE NOT NULL,
	PRIMARY KEY (tenant, designation_id)
);

CREATE TABLE kpi_laboratories (
	tenant VARCHAR(16) NOT NULL,
	laboratory_id VARCHAR(100) NOT NULL,
	name VARCHAR(300) NOT NULL,
	commune_code VARCHAR(16),
	PRIMARY KEY (tenant, laboratory_id)
);

CREATE TABLE kpi_accreditations (
	tenant VARCHAR(16) NOT NULL,
	laboratory_id VARCHAR(100) NOT NULL,
	accreditation_number VARCHAR(100) NOT NULL,
	recorded_on DATE NOT NULL,
	valid_from DATE NOT NULL,
	valid_until DATE NOT NULL,
	PRIMARY KEY (tenant, laboratory_id, accreditation_number)
);

CREATE TABLE kpi_assessments (
	tenant VARCHAR(16) NOT NULL,
	event_id VARCHAR(100) NOT NULL,
	laboratory_id VARCHAR(100) NOT NULL,
	criteria VARCHAR(100) NOT NULL,
	passed BOOLEAN NOT NULL,
	assessed_on DATE NOT NULL,
	PRIMARY KEY (tenant, event_id)
);

CREATE TABLE kpi_instruments (
	tenant VARCHAR(16) NOT NULL,
	instrument_id VARCHAR(100) NOT NULL,
	type_code VARCHAR(32) NOT NULL,
	commune_code VARCHAR(16),
	registered_on DATE NOT NULL,
	PRIMARY KEY (tenant, instrument_id)
);

CREATE TABLE kpi_retirements (
	tenant VARCHAR(16) NOT NULL,
	instrument_id VARCHAR(100) NOT NULL,
	retired_on DATE NOT NULL,
	PRIMARY KEY (tenant, instrument_id)
);

CREATE TABLE kpi_due_dates (
	tenant VARCHAR(16) NOT NULL,
	instrument_id VARCHAR(100) NOT NULL,
	source VARCHAR(100) NOT NULL,
	due_on DATE NOT NULL,
	PRIMARY KEY (tenant, instrument_id, source)
);

CREATE INDEX ix_kpi_due_day_instrument ON kpi_due_dates (tenant, due_on, instrument_id);

CREATE TABLE kpi_verifications (
	tenant VARCHAR(16) NOT NULL,
	job_id VARCHAR(100) NOT NULL,
	instrument_id VARCHAR(100) NOT NULL,
	provider_id VARCHAR(100) NOT NULL,
	provider_province_code VARCHAR(8),
	verified_on DATE NOT NULL,
	PRIMARY KEY (tenant, job_id)
);

CREATE INDEX ix_kpi_verifications_day ON kpi_verifications (tenant, verified_on);

CREATE INDEX ix_kpi_verifications_instrument_day ON kpi_verifications (tenant, instrument_id, verified_on);

CREATE TABLE reporting_target_statuses (
	plan_id VARCHAR(100) NOT NULL,
	target_id VARCHAR(100) NOT NULL,
	status VARCHAR(16) NOT NULL,
	value FLOAT NOT NULL,
	as_of DATE NOT NULL,
	PRIMARY KEY (plan_id, target_id)
);

CREATE TABLE reporting_read_model_versions (
	tenant VARCHAR(16) NOT NULL,
	epoch VARCHAR(32) NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (tenant)
);
