-- Version 3: the janitor's work, which one replica of an install does at a
-- time.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A failed video whose source the janitor removed keeps its row, and its
-- reason stays readable, but it can no longer be encoded again.
ALTER TABLE videos ADD COLUMN source_removed_at INTEGER;

-- Failed videos that still keep their source, by when they last changed.
CREATE INDEX videos_failed_idx ON videos (updated_at)
	WHERE state = 'failed' AND source_removed_at IS NULL;

-- Upload sessions by expiry, for aborting the expired ones.
CREATE INDEX upload_sessions_expires_idx ON upload_sessions (expires_at);

-- Sent jobs by when they were sent, for purging the old ones.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- A lease lets one replica at a time do a piece of background work: holder
-- has it until expires_at, after which another may take it.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
