-- The schema metrology-verification created on postgresql in the release before migrations (commit 0221864),
-- as SQLAlchemy's create_all emitted it. Frozen: never edit.
CREATE TABLE events (
	position BIGSERIAL NOT NULL,
	txid xid8,
	event_id VARCHAR(36) NOT NULL,
	stream_id VARCHAR(200) NOT NULL,
	stream_version INTEGER NOT NULL,
	type VARCHAR(200) NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	traceparent VARCHAR(55),
	payload BYTEA NOT NULL,
	PRIMARY KEY (position),
	CONSTRAINT uq_events_stream_version UNIQUE (stream_id, stream_version),
	UNIQUE (event_id)
);

CREATE INDEX ix_events_txid_position ON events (txid, position);

ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id(), ALTER COLUMN txid SET NOT NULL;

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

CREATE TABLE idempotency_keys (
	scope VARCHAR(200) NOT NULL,
	key VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	status_code INTEGER NOT NULL,
	response JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (scope, key)
);

CREATE TABLE replica_providers (
	provider_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	name VARCHAR(300) NOT NULL,
	ownership VARCHAR(20) NOT NULL,
	province_code VARCHAR(8) NOT NULL,
	commune_code VARCHAR(8) NOT NULL,
	PRIMARY KEY (provider_id)
);

CREATE TABLE replica_designations (
	designation_id VARCHAR(64) NOT NULL,
	provider_id VARCHAR(64) NOT NULL,
	decision_number VARCHAR(100) NOT NULL,
	instrument_types JSON NOT NULL,
	fields JSON NOT NULL,
	valid_from DATE NOT NULL,
	valid_until DATE NOT NULL,
	renewals JSON NOT NULL,
	revoked_on DATE,
	PRIMARY KEY (designation_id)
);

CREATE INDEX ix_replica_designations_provider_id ON replica_designations (provider_id);

CREATE TABLE replica_verifiers (
	verifier_id VARCHAR(64) NOT NULL,
	provider_id VARCHAR(64) NOT NULL,
	card_number VARCHAR(100) NOT NULL,
	fields JSON NOT NULL,
	certified_on DATE NOT NULL,
	suspensions JSON NOT NULL,
	PRIMARY KEY (verifier_id)
);

CREATE INDEX ix_replica_verifiers_provider_id ON replica_verifiers (provider_id);

CREATE TABLE replica_standards (
	standard_id VARCHAR(64) NOT NULL,
	owner_id VARCHAR(64) NOT NULL,
	level VARCHAR(20) NOT NULL,
	quantity VARCHAR(100) NOT NULL,
	calibrated_on DATE NOT NULL,
	due_on DATE NOT NULL,
	PRIMARY KEY (standard_id)
);

CREATE TABLE replica_instruments (
	instrument_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	type_code VARCHAR(16) NOT NULL,
	serial VARCHAR(100) NOT NULL,
	manufacturer VARCHAR(200) NOT NULL,
	owner_enterprise_id VARCHAR(64) NOT NULL,
	province_code VARCHAR(8) NOT NULL,
	commune_code VARCHAR(8) NOT NULL,
	registered_on DATE NOT NULL,
	status_changes JSON NOT NULL,
	PRIMARY KEY (instrument_id)
);

CREATE INDEX ix_replica_instruments_owner_enterprise_id ON replica_instruments (owner_enterprise_id);

CREATE TABLE jobs (
	job_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	kind VARCHAR(20) NOT NULL,
	mode VARCHAR(20) NOT NULL,
	subject VARCHAR(20) NOT NULL,
	subject_id VARCHAR(64) NOT NULL,
	type_code VARCHAR(16),
	owner_enterprise_id VARCHAR(64),
	provider_id VARCHAR(64) NOT NULL,
	provider_local BOOLEAN NOT NULL,
	verifier_id VARCHAR(64) NOT NULL,
	procedure VARCHAR(100) NOT NULL,
	working_standard_id VARCHAR(64),
	performed_on DATE NOT NULL,
	result VARCHAR(8) NOT NULL,
	certificate_number VARCHAR(64),
	record_number VARCHAR(64),
	PRIMARY KEY (job_id)
);

CREATE INDEX ix_jobs_subject_id ON jobs (subject_id);

CREATE INDEX ix_jobs_provider_id ON jobs (provider_id);

CREATE INDEX ix_jobs_owner_enterprise_id ON jobs (owner_enterprise_id);

CREATE INDEX ix_jobs_performed_on ON jobs (performed_on);

CREATE TABLE certificates (
	number VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	job_id VARCHAR(64) NOT NULL,
	kind VARCHAR(20) NOT NULL,
	subject VARCHAR(20) NOT NULL,
	subject_id VARCHAR(64) NOT NULL,
	type_code VARCHAR(16),
	serial VARCHAR(100),
	owner_enterprise_id VARCHAR(64),
	provider_id VARCHAR(64) NOT NULL,
	provider_name VARCHAR(300) NOT NULL,
	procedure VARCHAR(100) NOT NULL,
	performed_on DATE NOT NULL,
	valid_until DATE,
	sticker_serial VARCHAR(100) NOT NULL,
	qr_payload VARCHAR(200) NOT NULL,
	measurements JSON NOT NULL,
	revoked_on DATE,
	revocation_reason VARCHAR(500),
	PRIMARY KEY (number),
	UNIQUE (job_id)
);

CREATE INDEX ix_certificates_subject_id ON certificates (subject_id);

CREATE INDEX ix_certificates_provider_id ON certificates (provider_id);

CREATE INDEX ix_certificates_owner_enterprise_id ON certificates (owner_enterprise_id);

CREATE TABLE instrument_due (
	instrument_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	type_code VARCHAR(16) NOT NULL,
	serial VARCHAR(100) NOT NULL,
	owner_enterprise_id VARCHAR(64) NOT NULL,
	commune_code VARCHAR(8) NOT NULL,
	status VARCHAR(20) NOT NULL,
	registered_on DATE NOT NULL,
	last_job_id VARCHAR(64),
	last_verified_on DATE,
	last_result VARCHAR(8),
	unfit BOOLEAN NOT NULL,
	due_on DATE,
	PRIMARY KEY (instrument_id)
);

CREATE INDEX ix_instrument_due_commune_code ON instrument_due (commune_code);

CREATE INDEX ix_instrument_due_owner_enterprise_id ON instrument_due (owner_enterprise_id);

CREATE INDEX ix_instrument_due_tenant ON instrument_due (tenant);

CREATE INDEX ix_instrument_due_due_on ON instrument_due (due_on);
