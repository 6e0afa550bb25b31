-- Version 10: how much of a video still encoding can be watched already.
--
-- Migrate runs a version once, in the transaction that records it, so
-- nothing here needs to be idempotent.

ALTER TABLE videos ADD COLUMN playable_seconds REAL NOT NULL DEFAULT 0;
