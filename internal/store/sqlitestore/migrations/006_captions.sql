-- Version 6: captions, one WebVTT file per video and language.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

-- A row says the object videos/{video_id}/captions/{language}.vtt holds
-- the video's captions in language (a canonical BCP 47 tag), shown in
-- players as label.
CREATE TABLE video_captions (
	video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	language   TEXT NOT NULL,
	label      TEXT NOT NULL,
	size_bytes INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (video_id, language)
) STRICT, WITHOUT ROWID;
