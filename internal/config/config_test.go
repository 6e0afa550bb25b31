package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/video"
)

func TestLoadDefaultsAndOverrides(t *testing.T) {
	env := map[string]string{
		"CLOUDFLIX_ENCODE_LEASE":         "90s",
		"CLOUDFLIX_ENCODE_TIME_FACTOR":   "2.5",
		"CLOUDFLIX_UPLOAD_ALLOWED_TYPES": "video/mp4, video/webm ,",
		"CLOUDFLIX_S3_TLS":               "true",
		"CLOUDFLIX_POSTGRES_URL":         "postgres://u:pw@db/x",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	var enc Encode
	if err := load(&enc, lookup); err != nil {
		t.Fatal(err)
	}
	if enc.Lease != 90*time.Second || enc.MaxAttempts != 3 || enc.TimeFactor != 2.5 || enc.MaxFrameRate != 240 || enc.MaxPixelRate != 1_000_000_000 {
		t.Fatalf("encode config = %+v", enc)
	}
	var defaults Encode
	if err := Defaults(&defaults); err != nil {
		t.Fatal(err)
	}
	if defaults.Lease != 2*time.Minute || defaults.TimeFactor != 100 || defaults.Nice != 10 {
		t.Fatalf("Defaults read the environment or missed a default: %+v", defaults)
	}
	var b Backends
	if err := load(&b, lookup); err != nil {
		t.Fatal(err)
	}
	if !b.S3.TLS || b.Postgres.URL != "postgres://u:pw@db/x" || b.Metadata != "sqlite" || b.DataDir != "./data" {
		t.Fatalf("backends = %+v", b)
	}
	if err := b.Check(); err != nil || len(b.InProcess()) != 4 {
		t.Fatalf("default backends: %v, in process %v", err, b.InProcess())
	}
	b.Queue = "kafka"
	if err := b.Check(); err == nil {
		t.Fatal("unknown queue backend accepted")
	}
	var up Upload
	if err := load(&up, lookup); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(up.AllowedTypes, "|"); got != "video/mp4|video/webm" {
		t.Fatalf("allowed types = %q", got)
	}
	if up.PartSize != 16<<20 || up.GRPC.UploadListen != "127.0.0.1:9101" {
		t.Fatalf("upload config = %+v", up)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	for name, value := range map[string]string{
		"CLOUDFLIX_ENCODE_WORKERS":     "many",
		"CLOUDFLIX_ENCODE_TIME_FACTOR": "NaN",
		"CLOUDFLIX_ENCODE_MAX_FRAMES":  "1e6",
	} {
		lookup := func(k string) (string, bool) {
			if k == name {
				return value, true
			}
			return "", false
		}
		var enc Encode
		err := load(&enc, lookup)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want one naming the variable", name, value, err)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	var up Backends
	if err := load(&up, func(k string) (string, bool) { return "an S3 secret", k == "CLOUDFLIX_S3_SECRET_KEY" }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", LogAttrs(&up)...)
	if strings.Contains(buf.String(), "an S3 secret") || strings.Contains(buf.String(), "guest:guest") ||
		!strings.Contains(buf.String(), `"CLOUDFLIX_S3_SECRET_KEY":"***"`) {
		t.Fatalf("secret not masked: %s", buf.String())
	}
	vars := Variables(&up)
	var secrets int
	for _, v := range vars {
		if v.Secret {
			secrets++
		}
	}
	if secrets != 5 { // signing key, postgres URL, redis password, AMQP URL, S3 secret key
		t.Fatalf("secrets = %d, want 5", secrets)
	}
}

func TestDurationsLoggedAsDurations(t *testing.T) {
	var up Upload
	if err := load(&up, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", LogAttrs(&up)...)
	if !strings.Contains(buf.String(), `"CLOUDFLIX_UPLOAD_SESSION_TTL":"24h0m0s"`) {
		t.Fatalf("session TTL not logged as a duration: %s", buf.String())
	}
}

func TestJanitorDefaultsAndModes(t *testing.T) {
	var up Upload
	if err := load(&up, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	j := up.Janitor
	if j.Interval != 10*time.Minute || j.OutboxAge != 7*24*time.Hour || j.FailedSourceAge != 30*24*time.Hour ||
		j.OrphanMode != "dry-run" || j.OrphanMinAge != time.Hour {
		t.Fatalf("janitor defaults = %+v", j)
	}
	if err := j.Check(); err != nil {
		t.Fatalf("default janitor config refused: %v", err)
	}
	j.OrphanMode = "delete"
	if err := j.Check(); err != nil {
		t.Fatalf("orphan mode delete refused: %v", err)
	}
	j.OrphanMode = "yes"
	if err := j.Check(); err == nil || !strings.Contains(err.Error(), "CLOUDFLIX_JANITOR_ORPHAN_MODE") {
		t.Fatalf("orphan mode yes: %v, want an error naming the variable", err)
	}
}

// The host's limits on comments and reports default to the domain's
// rates, and a limit that would let nobody post or report is refused.
func TestHostLimits(t *testing.T) {
	var h Host
	if err := Defaults(&h); err != nil {
		t.Fatal(err)
	}
	if got := (video.CommentRate{Burst: h.CommentBurst, Refill: h.CommentRefill}); got != video.DefaultCommentRate {
		t.Errorf("comment rate defaults to %+v, want %+v", got, video.DefaultCommentRate)
	}
	if got := (moderation.ReportRate{Reports: h.ReportLimit, Per: h.ReportWindow}); got != moderation.DefaultReportRate {
		t.Errorf("report rate defaults to %+v, want %+v", got, moderation.DefaultReportRate)
	}
	if err := h.Check(); err != nil {
		t.Fatalf("the defaults refused: %v", err)
	}
	unlimited := h
	unlimited.CommentRefill = 0
	if err := unlimited.Check(); err != nil {
		t.Errorf("no refill limit refused: %v", err)
	}
	for name, change := range map[string]func(*Host){
		"CLOUDFLIX_COMMENT_BURST":  func(h *Host) { h.CommentBurst = 0 },
		"CLOUDFLIX_COMMENT_REFILL": func(h *Host) { h.CommentRefill = -time.Second },
		"CLOUDFLIX_REPORT_LIMIT":   func(h *Host) { h.ReportLimit = 0 },
		"CLOUDFLIX_REPORT_WINDOW":  func(h *Host) { h.ReportWindow = 0 },
	} {
		bad := h
		change(&bad)
		if err := bad.Check(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s out of bounds: %v, want an error naming it", name, err)
		}
	}
}
