package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// targetLockClass is the first key of the advisory locks that reports and
// decisions about one target take turns on (the second is a hash of the
// target), a key space apart from the store's one-key locks: a report
// filed while a moderator resolves the target's reports then either
// counts in the case the moderator closes or opens a new one, never
// leaving an open report outside the queue's counts.
const targetLockClass = 0x6d6f64 // "mod"

func lockTarget(ctx context.Context, tx pgx.Tx, t moderation.Target) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(targetLockClass), string(t.Kind)+":"+t.ID)
	return err
}

// Report implements [store.Moderation.Report]. The reporter's row is
// locked first, so that their concurrent reports are counted against
// their rate one after another.
func (s *Store) Report(ctx context.Context, r moderation.Report, rate moderation.ReportRate, at time.Time) (moderation.Report, error) {
	if err := store.CheckTarget(r.Target); err != nil {
		return moderation.Report{}, err
	}
	if !store.ValidID(r.ReporterID) {
		return moderation.Report{}, fmt.Errorf("report by %s: %w", r.ReporterID, video.ErrNotFound)
	}
	at = store.LikeTime(at)
	t := r.Target
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT username FROM users WHERE id = $1 FOR NO KEY UPDATE", r.ReporterID).Scan(&r.Reporter)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The window is full when it holds rate.Reports reports: the
		// newest of them to leave it last is the rate.Reports-th newest.
		var filling time.Time
		err = tx.QueryRow(ctx, `
			SELECT updated_at FROM reports WHERE reporter_id = $1 AND updated_at > $2
			ORDER BY updated_at DESC LIMIT 1 OFFSET $3`,
			r.ReporterID, at.Add(-rate.Per), max(rate.Reports-1, 0)).Scan(&filling)
		switch {
		case err == nil:
			return rate.Refuse(filling, at)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if err := lockTarget(ctx, tx, t); err != nil {
			return err
		}
		var was moderation.Reason
		err = tx.QueryRow(ctx, `
			SELECT reason, created_at FROM reports
			WHERE target_kind = $1 AND target_id = $2 AND reporter_id = $3 AND resolved_at IS NULL`,
			t.Kind, t.ID, r.ReporterID).Scan(&was, &r.CreatedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			r.CreatedAt = at
			if _, err := tx.Exec(ctx, `
				INSERT INTO reports (target_kind, target_id, reporter_id, reason, note, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, t.Kind, t.ID, r.ReporterID, r.Reason, r.Note, at); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO report_cases AS c (target_kind, target_id, reports, latest_at) VALUES ($1, $2, 1, $3)
				ON CONFLICT (target_kind, target_id)
				DO UPDATE SET reports = c.reports + 1, latest_at = greatest(c.latest_at, excluded.latest_at)`,
				t.Kind, t.ID, at); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.Exec(ctx, `
				UPDATE reports SET reason = $4, note = $5, updated_at = $6
				WHERE target_kind = $1 AND target_id = $2 AND reporter_id = $3 AND resolved_at IS NULL`,
				t.Kind, t.ID, r.ReporterID, r.Reason, r.Note, at); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				UPDATE report_cases SET latest_at = greatest(latest_at, $3) WHERE target_kind = $1 AND target_id = $2`,
				t.Kind, t.ID, at); err != nil {
				return err
			}
			if was != r.Reason {
				if err := uncountReason(ctx, tx, t, was); err != nil {
					return err
				}
			}
		}
		if was != r.Reason {
			_, err := tx.Exec(ctx, `
				INSERT INTO report_reasons AS r (target_kind, target_id, reason, reports) VALUES ($1, $2, $3, 1)
				ON CONFLICT (target_kind, target_id, reason) DO UPDATE SET reports = r.reports + 1`,
				t.Kind, t.ID, r.Reason)
			return err
		}
		return nil
	})
	if err != nil {
		return moderation.Report{}, fmt.Errorf("report %s %s by %s: %w", t.Kind, t.ID, r.ReporterID, err)
	}
	r.UpdatedAt = at
	return r, nil
}

// uncountReason takes one open report giving reason off a target's
// counts, dropping the count when it was the last.
func uncountReason(ctx context.Context, tx pgx.Tx, t moderation.Target, reason moderation.Reason) error {
	tag, err := tx.Exec(ctx, `
		DELETE FROM report_reasons WHERE target_kind = $1 AND target_id = $2 AND reason = $3 AND reports <= 1`,
		t.Kind, t.ID, reason)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	_, err = tx.Exec(ctx, `
		UPDATE report_reasons SET reports = reports - 1 WHERE target_kind = $1 AND target_id = $2 AND reason = $3`,
		t.Kind, t.ID, reason)
	return err
}

// Cases implements [store.Moderation.Cases].
func (s *Store) Cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error) {
	if err := store.CheckCasePosition(after); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	cases, err := s.cases(ctx, limit, after)
	if err != nil {
		return nil, fmt.Errorf("moderation queue: %w", err)
	}
	return cases, nil
}

func (s *Store) cases(ctx context.Context, limit int, after moderation.CasePosition) ([]moderation.Case, error) {
	args := []any{limit}
	page := ""
	if after.Target.ID != "" {
		args = append(args, after.Latest, after.Target.Kind, after.Target.ID)
		page = "WHERE (latest_at, target_kind, target_id) < ($2, $3, $4)"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT target_kind, target_id, reports, latest_at FROM report_cases `+page+`
		ORDER BY latest_at DESC, target_kind DESC, target_id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, err
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.Case, error) {
		c := moderation.Case{Reasons: map[moderation.Reason]int{}}
		err := r.Scan(&c.Target.Kind, &c.Target.ID, &c.Reports, &c.Latest)
		c.Latest = c.Latest.UTC()
		return c, err
	})
	if err != nil || len(cases) == 0 {
		return cases, err
	}
	index := make(map[moderation.Target]int, len(cases))
	kinds, ids := make([]string, len(cases)), make([]string, len(cases))
	for i, c := range cases {
		index[c.Target] = i
		kinds[i], ids[i] = string(c.Target.Kind), c.Target.ID
	}
	rows, err = s.pool.Query(ctx, `
		SELECT r.target_kind, r.target_id, r.reason, r.reports
		FROM unnest($1::text[], $2::text[]) AS t (kind, id)
		JOIN report_reasons r ON r.target_kind = t.kind AND r.target_id = t.id`, kinds, ids)
	if err != nil {
		return nil, err
	}
	var (
		t      moderation.Target
		reason moderation.Reason
		n      int
	)
	_, err = pgx.ForEachRow(rows, []any{&t.Kind, &t.ID, &reason, &n}, func() error {
		cases[index[t]].Reasons[reason] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = s.pool.Query(ctx, `
		SELECT r.target_kind, r.target_id, r.reporter_id::text, coalesce(u.username, ''), r.reason, r.note, r.created_at, r.updated_at
		FROM unnest($1::text[], $2::text[]) AS t (kind, id)
		CROSS JOIN LATERAL (
			SELECT * FROM reports
			WHERE target_kind = t.kind AND target_id = t.id AND resolved_at IS NULL
			ORDER BY updated_at DESC LIMIT $3) AS r
		LEFT JOIN users u ON u.id = r.reporter_id
		ORDER BY r.updated_at DESC, r.id DESC`, kinds, ids, store.CaseReports)
	if err != nil {
		return nil, err
	}
	var r moderation.Report
	_, err = pgx.ForEachRow(rows, []any{&r.Target.Kind, &r.Target.ID, &r.ReporterID, &r.Reporter, &r.Reason, &r.Note, &r.CreatedAt, &r.UpdatedAt}, func() error {
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		c := &cases[index[r.Target]]
		c.Recent = append(c.Recent, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cases, nil
}

// HideVideo implements [store.Moderation.HideVideo].
func (s *Store) HideVideo(ctx context.Context, d moderation.Decision) (video.Video, error) {
	return s.decideVideo(ctx, d, func(tx pgx.Tx) pgx.Row {
		return tx.QueryRow(ctx, `
			UPDATE videos SET hidden_at = now(), hidden_reason = $2
			WHERE id = $1 AND state <> 'deleted' AND hidden_at IS NULL
			RETURNING `+videoColumns, d.Target.ID, d.Why)
	})
}

// RestoreVideo implements [store.Moderation.RestoreVideo].
func (s *Store) RestoreVideo(ctx context.Context, d moderation.Decision) (video.Video, error) {
	return s.decideVideo(ctx, d, func(tx pgx.Tx) pgx.Row {
		return tx.QueryRow(ctx, `
			UPDATE videos SET hidden_at = NULL, hidden_reason = ''
			WHERE id = $1 AND state <> 'deleted' AND hidden_at IS NOT NULL
			RETURNING `+videoColumns, d.Target.ID)
	})
}

// decideVideo changes a video with change, an UPDATE returning it (no row
// when the video is not as d needs), and logs d, resolving the video's open
// reports when d hides it.
func (s *Store) decideVideo(ctx context.Context, d moderation.Decision, change func(tx pgx.Tx) pgx.Row) (video.Video, error) {
	if err := store.CheckDecision(d, moderation.KindVideo); err != nil {
		return video.Video{}, err
	}
	var v video.Video
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockTarget(ctx, tx, d.Target); err != nil {
			return err
		}
		var err error
		v, err = scanVideo(change(tx))
		if errors.Is(err, pgx.ErrNoRows) {
			return whyNotDecided(ctx, tx, d)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, d)
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("%s video %s: %w", d.Action, d.Target.ID, err)
	}
	return v, nil
}

// HideComment implements [store.Moderation.HideComment].
func (s *Store) HideComment(ctx context.Context, d moderation.Decision) (video.Comment, error) {
	return s.decideComment(ctx, d, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		return tx.Exec(ctx, `
			UPDATE comments AS c SET hidden_at = now(), hidden_reason = $2
			WHERE c.id = $1 AND c.hidden_at IS NULL AND `+liveVideo, d.Target.ID, d.Why)
	})
}

// RestoreComment implements [store.Moderation.RestoreComment].
func (s *Store) RestoreComment(ctx context.Context, d moderation.Decision) (video.Comment, error) {
	return s.decideComment(ctx, d, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		return tx.Exec(ctx, `
			UPDATE comments AS c SET hidden_at = NULL, hidden_reason = ''
			WHERE c.id = $1 AND c.hidden_at IS NOT NULL AND `+liveVideo, d.Target.ID)
	})
}

// decideComment changes a comment with change, an UPDATE of no row when
// the comment is not as d needs, and logs d, resolving the comment's open
// reports when d hides it. The target's lock orders it with reports of
// the comment, as decideVideo does.
func (s *Store) decideComment(ctx context.Context, d moderation.Decision, change func(tx pgx.Tx) (pgconn.CommandTag, error)) (video.Comment, error) {
	if err := store.CheckDecision(d, moderation.KindComment); err != nil {
		return video.Comment{}, err
	}
	var c video.Comment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockTarget(ctx, tx, d.Target); err != nil {
			return err
		}
		tag, err := change(tx)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return whyNotDecided(ctx, tx, d)
		}
		c, err = scanComment(tx.QueryRow(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = $1`, d.Target.ID))
		if err != nil {
			return err
		}
		return record(ctx, tx, d)
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("%s comment %s: %w", d.Action, d.Target.ID, err)
	}
	return c, nil
}

// whyNotDecided tells why hiding or restoring a video or a comment
// matched no row: it is absent, or it or its video is deleted, or it is
// hidden already (or not hidden).
func whyNotDecided(ctx context.Context, tx pgx.Tx, d moderation.Decision) error {
	var (
		state  video.State
		hidden bool
	)
	query := "SELECT state, hidden_at IS NOT NULL FROM videos WHERE id = $1"
	if d.Target.Kind == moderation.KindComment {
		query = `SELECT v.state, c.hidden_at IS NOT NULL FROM comments c JOIN videos v ON v.id = c.video_id WHERE c.id = $1`
	}
	err := tx.QueryRow(ctx, query, d.Target.ID).Scan(&state, &hidden)
	if errors.Is(err, pgx.ErrNoRows) || state == video.StateDeleted {
		return video.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.WhyNotDecided(d.Target.Kind, hidden)
}

// DismissReports implements [store.Moderation.DismissReports].
func (s *Store) DismissReports(ctx context.Context, d moderation.Decision) (int, error) {
	if err := store.CheckTarget(d.Target); err != nil {
		return 0, err
	}
	var resolved int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockTarget(ctx, tx, d.Target); err != nil {
			return err
		}
		var err error
		if resolved, err = resolveReports(ctx, tx, d); err != nil {
			return err
		}
		if resolved == 0 {
			return fmt.Errorf("no open report: %w", video.ErrNotFound)
		}
		return appendLog(ctx, tx, d, resolved)
	})
	if err != nil {
		return 0, fmt.Errorf("dismiss reports of %s %s: %w", d.Target.Kind, d.Target.ID, err)
	}
	return resolved, nil
}

// record writes a hide or restore decision: a hide resolves the
// target's open reports, and either goes in the audit log with how many
// it resolved.
func record(ctx context.Context, tx pgx.Tx, d moderation.Decision) error {
	resolved := 0
	if d.Action == moderation.ActionHide {
		var err error
		if resolved, err = resolveReports(ctx, tx, d); err != nil {
			return err
		}
	}
	return appendLog(ctx, tx, d, resolved)
}

// resolveReports closes the open reports of d's target with d's action,
// drops its case from the queue and returns how many it closed. The
// caller holds the target's lock.
func resolveReports(ctx context.Context, tx pgx.Tx, d moderation.Decision) (int, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE reports SET resolved_at = now(), resolution = $3
		WHERE target_kind = $1 AND target_id = $2 AND resolved_at IS NULL`,
		d.Target.Kind, d.Target.ID, d.Action)
	if err != nil {
		return 0, err
	}
	for _, table := range []string{"report_cases", "report_reasons"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE target_kind = $1 AND target_id = $2`,
			d.Target.Kind, d.Target.ID); err != nil {
			return 0, err
		}
	}
	return int(tag.RowsAffected()), nil
}

// appendLog writes d to the audit log with its actor's username, at the
// transaction's time; an actor who is no user gives ErrNotFound.
func appendLog(ctx context.Context, tx pgx.Tx, d moderation.Decision, resolved int) error {
	if !store.ValidID(d.ActorID) {
		return fmt.Errorf("moderator %s: %w", d.ActorID, video.ErrNotFound)
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO moderation_log (at, actor_id, actor_name, action, target_kind, target_id, why, resolved)
		SELECT now(), id, username, $2, $3, $4, $5, $6 FROM users WHERE id = $1`,
		d.ActorID, d.Action, d.Target.Kind, d.Target.ID, d.Why, resolved)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("moderator %s: %w", d.ActorID, video.ErrNotFound)
	}
	return nil
}

// AuditLog implements [store.Moderation.AuditLog].
func (s *Store) AuditLog(ctx context.Context, limit int, before int64) ([]moderation.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, at, actor_id::text, actor_name, action, target_kind, target_id, why, resolved
		FROM moderation_log WHERE id < $2 ORDER BY id DESC LIMIT $1`, limit, before)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.Entry, error) {
		var e moderation.Entry
		d := &e.Decision
		err := r.Scan(&e.ID, &d.At, &d.ActorID, &e.Actor, &d.Action, &d.Target.Kind, &d.Target.ID, &d.Why, &e.Resolved)
		d.At = d.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
