package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/playlist"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Every change of a playlist's items first locks the playlist's row (FOR
// NO KEY UPDATE): concurrent changes of one playlist then apply one after
// another, each reading the count and the positions the one before left.

// playlistColumns is what scanPlaylist reads, in order, of playlists.
const playlistColumns = `id::text, owner_id::text,
	coalesce((SELECT o.username FROM users o WHERE o.id = playlists.owner_id), ''),
	title, description, privacy, item_count, created_at, updated_at`

func scanPlaylist(row pgx.Row) (playlist.Playlist, error) {
	var pl playlist.Playlist
	err := row.Scan(&pl.ID, &pl.OwnerID, &pl.OwnerName, &pl.Title, &pl.Description, &pl.Privacy,
		&pl.ItemCount, &pl.CreatedAt, &pl.UpdatedAt)
	if err != nil {
		return playlist.Playlist{}, err
	}
	pl.CreatedAt, pl.UpdatedAt = pl.CreatedAt.UTC(), pl.UpdatedAt.UTC()
	return pl, nil
}

// itemColumns is what scanItem reads: the item's video, then its place.
// The items' columns are named apart from the videos', so that
// videoColumns reads unqualified in the join.
const itemColumns = videoColumns + `, pos, added_at`

const itemsJoin = `playlist_items JOIN videos ON videos.id = playlist_items.video_id`

func scanItem(row pgx.Row) (playlist.Item, error) {
	var it playlist.Item
	v, err := scanVideo(row, &it.Position, &it.AddedAt)
	if err != nil {
		return playlist.Item{}, err
	}
	it.Video, it.AddedAt = v, it.AddedAt.UTC()
	return it, nil
}

// CreatePlaylist implements [store.Playlists.CreatePlaylist]. The owner's
// row is locked while their playlists are counted, so that concurrent
// creations cannot together pass the bound.
func (s *Store) CreatePlaylist(ctx context.Context, pl playlist.Playlist, maxPerOwner int) (playlist.Playlist, error) {
	pl, err := store.NewPlaylist(pl)
	if err != nil {
		return playlist.Playlist{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var user int
		err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, pl.OwnerID).Scan(&user)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		var owned int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM playlists WHERE owner_id = $1`, pl.OwnerID).Scan(&owned); err != nil {
			return err
		}
		if owned >= maxPerOwner {
			return playlist.TooMany(pl.OwnerID, maxPerOwner)
		}
		pl, err = scanPlaylist(tx.QueryRow(ctx, `
			INSERT INTO playlists (id, owner_id, title, description, privacy, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING `+playlistColumns,
			pl.ID, pl.OwnerID, pl.Title, pl.Description, pl.Privacy))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
			return video.Invalid("playlist %s exists already", pl.ID)
		}
		return err
	})
	if err != nil {
		return playlist.Playlist{}, fmt.Errorf("create playlist for %s: %w", pl.OwnerID, err)
	}
	return pl, nil
}

// Playlist implements [store.Playlists.Playlist].
func (s *Store) Playlist(ctx context.Context, id string) (playlist.Playlist, error) {
	if !store.ValidID(id) {
		return playlist.Playlist{}, fmt.Errorf("playlist %s: %w", id, video.ErrNotFound)
	}
	pl, err := scanPlaylist(s.pool.QueryRow(ctx, `SELECT `+playlistColumns+` FROM playlists WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return playlist.Playlist{}, fmt.Errorf("playlist %s: %w", id, err)
	}
	return pl, nil
}

// UpdatePlaylist implements [store.Playlists.UpdatePlaylist].
func (s *Store) UpdatePlaylist(ctx context.Context, id string, change playlist.Change) (playlist.Playlist, error) {
	if !store.ValidID(id) {
		return playlist.Playlist{}, fmt.Errorf("update playlist %s: %w", id, video.ErrNotFound)
	}
	pl, err := scanPlaylist(s.pool.QueryRow(ctx, `
		UPDATE playlists SET title = coalesce($2, title), description = coalesce($3, description),
			privacy = coalesce($4, privacy), updated_at = now()
		WHERE id = $1 RETURNING `+playlistColumns,
		id, change.Title, change.Description, (*string)(change.Privacy)))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return playlist.Playlist{}, fmt.Errorf("update playlist %s: %w", id, err)
	}
	return pl, nil
}

// DeletePlaylist implements [store.Playlists.DeletePlaylist].
func (s *Store) DeletePlaylist(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return fmt.Errorf("delete playlist %s: %w", id, video.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM playlists WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete playlist %s: %w", id, err)
	}
	return nil
}

// UserPlaylists implements [store.Playlists.UserPlaylists].
func (s *Store) UserPlaylists(ctx context.Context, owner string, everything bool, limit int, after playlist.ListPosition) ([]playlist.Playlist, error) {
	if err := store.CheckPlaylistPosition(after); err != nil {
		return nil, err
	}
	if limit <= 0 || !store.ValidID(owner) {
		return nil, nil
	}
	filter := "owner_id = $1"
	if !everything {
		filter += " AND privacy = 'public'"
	}
	args := []any{owner, limit}
	if after.ID != "" {
		filter += " AND (created_at, id) < ($3::timestamptz, $4::uuid)"
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+playlistColumns+` FROM playlists WHERE `+filter+`
		ORDER BY playlists.created_at DESC, playlists.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("playlists of %s: %w", owner, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (playlist.Playlist, error) { return scanPlaylist(r) })
	if err != nil {
		return nil, fmt.Errorf("playlists of %s: %w", owner, err)
	}
	return out, nil
}

// PlaylistItems implements [store.Playlists.PlaylistItems].
func (s *Store) PlaylistItems(ctx context.Context, id string, limit, after int) ([]playlist.Item, error) {
	if limit <= 0 || !store.ValidID(id) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+itemColumns+` FROM `+itemsJoin+`
		WHERE playlist_id = $1 AND pos > $2 ORDER BY pos LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("items of playlist %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (playlist.Item, error) { return scanItem(r) })
	if err != nil {
		return nil, fmt.Errorf("items of playlist %s: %w", id, err)
	}
	return out, nil
}

// lockPlaylist locks a playlist's row for a change of its items and
// returns its count of items, or ErrNotFound.
func lockPlaylist(ctx context.Context, tx pgx.Tx, id string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT item_count FROM playlists WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, video.ErrNotFound
	}
	return n, err
}

// item reads one item of a playlist in tx, or ErrNotFound.
func item(ctx context.Context, tx pgx.Tx, id, videoID string) (playlist.Item, error) {
	it, err := scanItem(tx.QueryRow(ctx, `SELECT `+itemColumns+` FROM `+itemsJoin+`
		WHERE playlist_id = $1 AND video_id = $2`, id, videoID))
	if errors.Is(err, pgx.ErrNoRows) {
		return playlist.Item{}, video.ErrNotFound
	}
	return it, err
}

// AddPlaylistItem implements [store.Playlists.AddPlaylistItem].
func (s *Store) AddPlaylistItem(ctx context.Context, id, videoID string, maxItems int, at time.Time) (playlist.Item, bool, error) {
	if err := store.CheckPlaylistItem(id, videoID); err != nil {
		return playlist.Item{}, false, err
	}
	var (
		it    playlist.Item
		added bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := lockPlaylist(ctx, tx, id)
		if err != nil {
			return err
		}
		if it, err = item(ctx, tx, id, videoID); err == nil || !errors.Is(err, video.ErrNotFound) {
			return err
		}
		if n >= maxItems {
			return playlist.Full(id, maxItems)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO playlist_items (playlist_id, video_id, pos, added_at)
			SELECT $1, id, $3, $4 FROM videos WHERE id = $2 AND state <> 'deleted'`,
			id, videoID, n, store.ItemTime(at))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return video.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `
			UPDATE playlists SET item_count = item_count + 1, updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		added = true
		it, err = item(ctx, tx, id, videoID)
		return err
	})
	if err != nil {
		return playlist.Item{}, false, fmt.Errorf("add %s to playlist %s: %w", videoID, id, err)
	}
	return it, added, nil
}

// RemovePlaylistItem implements [store.Playlists.RemovePlaylistItem].
func (s *Store) RemovePlaylistItem(ctx context.Context, id, videoID string) error {
	if err := store.CheckPlaylistItem(id, videoID); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := lockPlaylist(ctx, tx, id)
		if err != nil {
			return err
		}
		var pos int
		err = tx.QueryRow(ctx, `
			DELETE FROM playlist_items WHERE playlist_id = $1 AND video_id = $2 RETURNING pos`, id, videoID).Scan(&pos)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := shiftItems(ctx, tx, id, pos+1, n-1, -1, nil, 0); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE playlists SET item_count = item_count - 1, updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove %s from playlist %s: %w", videoID, id, err)
	}
	return nil
}

// MovePlaylistItem implements [store.Playlists.MovePlaylistItem].
func (s *Store) MovePlaylistItem(ctx context.Context, id, videoID string, position int) (playlist.Item, error) {
	if position < 0 {
		return playlist.Item{}, video.Invalid("position %d: the first is 0", position)
	}
	if err := store.CheckPlaylistItem(id, videoID); err != nil {
		return playlist.Item{}, err
	}
	var it playlist.Item
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := lockPlaylist(ctx, tx, id)
		if err != nil {
			return err
		}
		if it, err = item(ctx, tx, id, videoID); err != nil {
			return err
		}
		lo, hi, shift, final := store.MoveSpan(it.Position, position, n)
		if lo > hi {
			return nil
		}
		if err := shiftItems(ctx, tx, id, lo, hi, shift, &videoID, final); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE playlists SET updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		it.Position = final
		return nil
	})
	if err != nil {
		return playlist.Item{}, fmt.Errorf("move %s of playlist %s to %d: %w", videoID, id, position, err)
	}
	return it, nil
}

// shiftItems moves the items of a playlist at positions lo..hi by shift,
// but the item of video moved (when not nil), which goes to final. The
// unique index on positions is checked at every row written, so the items
// are first parked at distinct negative positions (-1-pos) and then set
// from there: no row ever lands on a position another row still holds.
func shiftItems(ctx context.Context, tx pgx.Tx, id string, lo, hi, shift int, moved *string, final int) error {
	if lo > hi {
		return nil
	}
	if _, err := tx.Exec(ctx, `
		UPDATE playlist_items SET pos = -1 - pos WHERE playlist_id = $1 AND pos BETWEEN $2 AND $3`, id, lo, hi); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		UPDATE playlist_items SET pos = CASE WHEN video_id = $2::uuid THEN $3::integer ELSE -1 - pos + $4::integer END
		WHERE playlist_id = $1 AND pos < 0`, id, moved, final, shift)
	return err
}
