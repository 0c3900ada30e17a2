-- The schema metrology-registry created on sqlite in the release before migrations (commit 0221864),
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

CREATE TABLE relay_checkpoints (
	name VARCHAR(100) NOT NULL,
	txid BIGINT NOT NULL,
	position BIGINT NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE processed_events (
	consumer VARCHAR(100) NOT NULL,
	event_id VARCHAR(36) NOT NULL,
	PRIMARY KEY (consumer, event_id)
);

CREATE TABLE idempotency_keys (
	scope VARCHAR(200) NOT NULL,
	"key" VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	status_code INTEGER NOT NULL,
	response JSON NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (scope, "key")
);

CREATE TABLE enterprises (
	enterprise_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	tax_code VARCHAR(14) NOT NULL,
	name VARCHAR(300) NOT NULL,
	sector VARCHAR(64) NOT NULL,
	address VARCHAR(500) NOT NULL,
	province_code VARCHAR(2) NOT NULL,
	commune_code VARCHAR(5),
	contact_name VARCHAR(200),
	contact_phone VARCHAR(32),
	contact_email VARCHAR(200),
	status VARCHAR(16) NOT NULL,
	registered_on DATE NOT NULL,
	closed_on DATE,
	PRIMARY KEY (enterprise_id),
	CONSTRAINT uq_enterprises_tenant_tax_code UNIQUE (tenant, tax_code)
);

CREATE INDEX ix_enterprises_sector ON enterprises (sector);

CREATE TABLE providers (
	provider_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	name VARCHAR(300) NOT NULL,
	ownership VARCHAR(16) NOT NULL,
	tax_code VARCHAR(14),
	address VARCHAR(500),
	province_code VARCHAR(2) NOT NULL,
	commune_code VARCHAR(5),
	fields JSON NOT NULL,
	registration_certificate_number VARCHAR(64) NOT NULL,
	registration_certificate_date DATE NOT NULL,
	PRIMARY KEY (provider_id)
);

CREATE TABLE designations (
	designation_id VARCHAR(64) NOT NULL,
	provider_id VARCHAR(64) NOT NULL,
	decision_number VARCHAR(64) NOT NULL,
	instrument_types JSON NOT NULL,
	fields JSON NOT NULL,
	designated_on DATE NOT NULL,
	valid_from DATE NOT NULL,
	valid_until DATE NOT NULL,
	revoked_on DATE,
	revocation_reason VARCHAR(500),
	PRIMARY KEY (designation_id)
);

CREATE INDEX ix_designations_provider_id ON designations (provider_id);

CREATE TABLE verifiers (
	verifier_id VARCHAR(64) NOT NULL,
	provider_id VARCHAR(64) NOT NULL,
	card_number VARCHAR(64) NOT NULL,
	full_name VARCHAR(200) NOT NULL,
	fields JSON NOT NULL,
	certified_on DATE NOT NULL,
	status VARCHAR(16) NOT NULL,
	PRIMARY KEY (verifier_id)
);

CREATE INDEX ix_verifiers_provider_id ON verifiers (provider_id);

CREATE TABLE laboratories (
	laboratory_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	name VARCHAR(300) NOT NULL,
	owner VARCHAR(300) NOT NULL,
	address VARCHAR(500),
	province_code VARCHAR(2) NOT NULL,
	commune_code VARCHAR(5),
	registered_on DATE NOT NULL,
	PRIMARY KEY (laboratory_id)
);

CREATE TABLE accreditations (
	laboratory_id VARCHAR(64) NOT NULL,
	accreditation_number VARCHAR(64) NOT NULL,
	standard VARCHAR(64) NOT NULL,
	accreditation_body VARCHAR(200),
	scope JSON NOT NULL,
	valid_from DATE NOT NULL,
	valid_until DATE NOT NULL,
	PRIMARY KEY (laboratory_id, accreditation_number)
);

CREATE TABLE assessments (
	assessment_id VARCHAR(64) NOT NULL,
	laboratory_id VARCHAR(64) NOT NULL,
	criteria VARCHAR(64) NOT NULL,
	assessed_on DATE NOT NULL,
	passed BOOLEAN NOT NULL,
	assessor VARCHAR(200) NOT NULL,
	PRIMARY KEY (assessment_id)
);

CREATE INDEX ix_assessments_laboratory_id ON assessments (laboratory_id);

CREATE TABLE standards (
	standard_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	owner_id VARCHAR(64) NOT NULL,
	name VARCHAR(300) NOT NULL,
	quantity VARCHAR(100) NOT NULL,
	measuring_range VARCHAR(200) NOT NULL,
	accuracy VARCHAR(200) NOT NULL,
	level VARCHAR(16) NOT NULL,
	calibrated_against VARCHAR(64),
	national_standard VARCHAR(300),
	certificate_number VARCHAR(64) NOT NULL,
	calibrated_on DATE NOT NULL,
	due_on DATE NOT NULL,
	PRIMARY KEY (standard_id)
);

CREATE TABLE instruments (
	instrument_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	type_code VARCHAR(16) NOT NULL,
	serial VARCHAR(100) NOT NULL,
	manufacturer VARCHAR(200) NOT NULL,
	model VARCHAR(200),
	type_approval_number VARCHAR(100),
	owner_enterprise_id VARCHAR(64) NOT NULL,
	province_code VARCHAR(2) NOT NULL,
	commune_code VARCHAR(5),
	status VARCHAR(16) NOT NULL,
	registered_on DATE NOT NULL,
	PRIMARY KEY (instrument_id),
	CONSTRAINT uq_instruments_identity UNIQUE (tenant, type_code, manufacturer, serial)
);

CREATE INDEX ix_instruments_type_code ON instruments (type_code);

CREATE INDEX ix_instruments_owner_enterprise_id ON instruments (owner_enterprise_id);
