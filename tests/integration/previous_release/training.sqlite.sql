-- The schema metrology-training created on sqlite in the release before migrations (commit 0221864),
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

CREATE TABLE idempotency_keys (
	scope VARCHAR(200) NOT NULL,
	"key" VARCHAR(200) NOT NULL,
	request_hash VARCHAR(64) NOT NULL,
	status_code INTEGER NOT NULL,
	response JSON NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (scope, "key")
);

CREATE TABLE courses (
	course_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16),
	title VARCHAR(300) NOT NULL,
	topic VARCHAR(200) NOT NULL,
	field VARCHAR(100),
	audience VARCHAR(200),
	organiser VARCHAR(200) NOT NULL,
	trainer VARCHAR(200),
	starts_on DATE NOT NULL,
	ends_on DATE NOT NULL,
	pass_mark INTEGER NOT NULL,
	enrolled INTEGER NOT NULL,
	completed INTEGER NOT NULL,
	passed INTEGER NOT NULL,
	PRIMARY KEY (course_id)
);

CREATE INDEX ix_courses_tenant ON courses (tenant);

CREATE TABLE trainees (
	trainee_id VARCHAR(64) NOT NULL,
	tenant VARCHAR(16) NOT NULL,
	organisation_kind VARCHAR(20) NOT NULL,
	organisation_id VARCHAR(64),
	organisation_name VARCHAR(300),
	key_id VARCHAR(36) NOT NULL,
	sealed JSON,
	id_digest VARCHAR(64),
	registered_on DATE NOT NULL,
	erased_on DATE,
	PRIMARY KEY (trainee_id)
);

CREATE INDEX ix_trainees_tenant ON trainees (tenant);

CREATE INDEX ix_trainees_id_digest ON trainees (id_digest);

CREATE TABLE enrolments (
	course_id VARCHAR(64) NOT NULL,
	trainee_id VARCHAR(64) NOT NULL,
	enrolled_on DATE NOT NULL,
	days_present INTEGER NOT NULL,
	score FLOAT,
	passed BOOLEAN,
	certificate_number VARCHAR(64),
	completed_on DATE,
	PRIMARY KEY (course_id, trainee_id)
);

CREATE TABLE attendance (
	course_id VARCHAR(64) NOT NULL,
	trainee_id VARCHAR(64) NOT NULL,
	day DATE NOT NULL,
	present BOOLEAN NOT NULL,
	PRIMARY KEY (course_id, trainee_id, day)
);

CREATE TABLE trainee_keys (
	key_id VARCHAR(36) NOT NULL,
	trainee_id VARCHAR(64) NOT NULL,
	wrapped_key BLOB NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (key_id)
);

CREATE INDEX ix_trainee_keys_trainee_id ON trainee_keys (trainee_id);
