-- The schema metrology-outreach created on postgresql in the release before migrations (commit 0221864),
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
	key VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	status_code INTEGER NOT NULL,
	response JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (scope, key)
);

CREATE TABLE participations (
	participation_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	enterprise_id VARCHAR(64) NOT NULL,
	enterprise_name VARCHAR(300),
	status VARCHAR(20) NOT NULL,
	contact_name VARCHAR(200) NOT NULL,
	enrolled_on DATE NOT NULL,
	assessed_on DATE,
	assessment JSON,
	plan_approved_on DATE,
	objectives JSON,
	supports INTEGER NOT NULL,
	evaluations JSON,
	completed_on DATE,
	withdrawn_on DATE,
	accesses INTEGER NOT NULL,
	PRIMARY KEY (participation_id)
);

CREATE INDEX ix_participations_status ON participations (status);

CREATE INDEX ix_participations_tenant ON participations (tenant);

CREATE INDEX ix_participations_enterprise_id ON participations (enterprise_id);

CREATE TABLE accesses (
	access_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	participation_id VARCHAR(64) NOT NULL,
	enterprise_id VARCHAR(64) NOT NULL,
	channel VARCHAR(20) NOT NULL,
	occurred_on DATE NOT NULL,
	source_job_id VARCHAR(64),
	note VARCHAR(1000),
	PRIMARY KEY (access_id),
	CONSTRAINT uq_accesses_job UNIQUE (tenant, source_job_id)
);

CREATE INDEX ix_accesses_enterprise_id ON accesses (enterprise_id);

CREATE INDEX ix_accesses_occurred_on ON accesses (occurred_on);

CREATE INDEX ix_accesses_participation_id ON accesses (participation_id);

CREATE TABLE campaigns (
	campaign_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	title VARCHAR(300) NOT NULL,
	audience VARCHAR(300) NOT NULL,
	channel VARCHAR(100) NOT NULL,
	held_on DATE NOT NULL,
	enterprises_reached INTEGER NOT NULL,
	enterprise_ids JSON NOT NULL,
	people_reached INTEGER,
	PRIMARY KEY (campaign_id)
);

CREATE INDEX ix_campaigns_tenant ON campaigns (tenant);

CREATE INDEX ix_campaigns_held_on ON campaigns (held_on);

CREATE TABLE replica_enterprises (
	tenant VARCHAR(16) NOT NULL,
	enterprise_id VARCHAR(64) NOT NULL,
	tax_code VARCHAR(20) NOT NULL,
	name VARCHAR(300) NOT NULL,
	sector VARCHAR(200),
	closed_on DATE,
	PRIMARY KEY (tenant, enterprise_id)
);

CREATE TABLE replica_owned_subjects (
	tenant VARCHAR(16) NOT NULL,
	subject_id VARCHAR(64) NOT NULL,
	subject VARCHAR(20) NOT NULL,
	owner_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (tenant, subject_id)
);
