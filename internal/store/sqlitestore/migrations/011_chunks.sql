-- Version 11: chunk jobs of videos encoded in chunks.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A row is one chunk of the plan the worker holding a video's encode made:
-- the part of the source from start_seconds to end_seconds (0: to its
-- end), claimed by worker until lease_until (Unix microseconds) while
-- encoding, its files under the key prefix output once done.
CREATE TABLE encode_chunks (
	video_id      TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	idx           INTEGER NOT NULL,
	plan          TEXT NOT NULL,
	start_seconds REAL NOT NULL,
	end_seconds   REAL NOT NULL,
	state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'encoding', 'done', 'failed')),
	worker        TEXT NOT NULL DEFAULT '',
	lease_until   INTEGER NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0,
	output        TEXT NOT NULL DEFAULT '',
	failure       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (video_id, idx)
) STRICT, WITHOUT ROWID;
