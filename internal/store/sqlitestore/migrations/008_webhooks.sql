-- Version 8: webhook endpoints and the outbox of their deliveries.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- An endpoint a user registered: events is a JSON array of event types;
-- all_videos (an admin's) receives the events of every video; secret is the
-- signing secret sealed with a key derived from the internal key.
CREATE TABLE webhook_endpoints (
	id         TEXT PRIMARY KEY,
	owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	url        TEXT NOT NULL,
	events     TEXT NOT NULL,
	all_videos INTEGER NOT NULL DEFAULT 0 CHECK (all_videos IN (0, 1)),
	secret     BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- A user's endpoints, and whose endpoints an event of their video goes to.
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);
-- The endpoints for every video, which every event goes to.
CREATE INDEX webhook_endpoints_all_idx ON webhook_endpoints (owner_id) WHERE all_videos = 1;

-- One event on its way to one endpoint, written in the transaction of the
-- change it announces, and its log. A pending delivery is due at
-- next_attempt_at; a sender that claims one pushes that to the end of its
-- claim (claimed_by), so that it is due again only if the sender dies.
-- payload is the exact body that is signed and sent.
CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY,
	endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id        TEXT NOT NULL,
	event_type      TEXT NOT NULL,
	video_id        TEXT,
	payload         BLOB NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	claimed_by      TEXT,
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_latency_us INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	finished_at     INTEGER
) STRICT;

-- Pending deliveries by when they are due, for the senders.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- An endpoint's log, newest first.
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
-- Finished deliveries by when they finished, for purging the old ones.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;
