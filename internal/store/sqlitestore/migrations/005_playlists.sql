-- Version 5: playlists.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A user's ordered list of videos. item_count counts its items, kept with
-- the row as they are added and removed, so that a list of playlists shows
-- their sizes without a COUNT(*).
CREATE TABLE playlists (
	id          TEXT PRIMARY KEY,
	owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title       TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	privacy     TEXT NOT NULL CHECK (privacy IN ('public', 'unlisted', 'private')),
	item_count  INTEGER NOT NULL DEFAULT 0 CHECK (item_count >= 0),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

-- A user's playlists newest first: their channel's and their own list.
CREATE INDEX playlists_owner_idx ON playlists (owner_id, created_at DESC, id DESC);

-- The items of a playlist at dense positions 0..item_count-1, each video
-- once. The names differ from every column of videos, so that the video's
-- columns are read unqualified beside them.
CREATE TABLE playlist_items (
	playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
	video_id    TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	pos         INTEGER NOT NULL,
	added_at    INTEGER NOT NULL,
	PRIMARY KEY (playlist_id, video_id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX playlist_items_pos_key ON playlist_items (playlist_id, pos);
-- The playlists a video is in, for the cascade when a video row goes.
CREATE INDEX playlist_items_video_idx ON playlist_items (video_id);
