package platform

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/config"
)

// TestWellKnownCredentialsAreRefused: a production backend with a secret
// anyone could know does not start, and the refusal names the variable;
// a developer's servers on this machine, and real secrets, pass.
func TestWellKnownCredentialsAreRefused(t *testing.T) {
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", t.TempDir()+"/none")
	production := func() config.Backends {
		var b config.Backends
		if err := config.Defaults(&b); err != nil {
			t.Fatal(err)
		}
		b.Metadata, b.Storage, b.Cache, b.Queue = "postgres", "s3", "redis", "rabbitmq"
		b.S3.SecretKey = "a secret of its own"
		return b
	}
	for _, c := range []struct {
		name    string
		change  func(*config.Backends)
		refused string // the variable named, or "" when it starts
	}{
		{"the defaults on this machine, with an S3 secret", func(*config.Backends) {}, ""},
		{"no S3 secret key", func(b *config.Backends) { b.S3.SecretKey = "" }, "CLOUDFLIX_S3_SECRET_KEY"},
		{"no S3 secret key, local storage", func(b *config.Backends) { b.S3.SecretKey = ""; b.Storage = "local" }, ""},
		{"PostgreSQL elsewhere without a password", func(b *config.Backends) {
			b.Postgres.URL = "postgres://cloudflix@db.internal:5432/cloudflix"
		}, "CLOUDFLIX_POSTGRES_URL"},
		{"PostgreSQL elsewhere, keyword form, without a password", func(b *config.Backends) {
			b.Postgres.URL = "host=10.0.0.5 user=cloudflix dbname=cloudflix"
		}, "CLOUDFLIX_POSTGRES_URL"},
		{"PostgreSQL elsewhere with a password", func(b *config.Backends) {
			b.Postgres.URL = "postgres://cloudflix:s3cret@db.internal:5432/cloudflix"
		}, ""},
		{"PostgreSQL over a Unix socket", func(b *config.Backends) {
			b.Postgres.URL = "postgres:///cloudflix?host=/var/run/postgresql"
		}, ""},
		{"PostgreSQL elsewhere, SQLite chosen", func(b *config.Backends) {
			b.Postgres.URL = "postgres://cloudflix@db.internal:5432/cloudflix"
			b.Metadata = "sqlite"
		}, ""},
		{"RabbitMQ elsewhere as guest", func(b *config.Backends) {
			b.AMQP.URL = "amqp://guest:guest@rabbitmq:5672/"
		}, "CLOUDFLIX_AMQP_URL"},
		{"RabbitMQ elsewhere with no user (guest)", func(b *config.Backends) {
			b.AMQP.URL = "amqp://rabbitmq:5672/"
		}, "CLOUDFLIX_AMQP_URL"},
		{"RabbitMQ elsewhere with a user of its own", func(b *config.Backends) {
			b.AMQP.URL = "amqp://cloudflix:s3cret@rabbitmq:5672/"
		}, ""},
		{"Redis elsewhere without a password", func(b *config.Backends) { b.Redis.Addr = "redis:6379" }, "CLOUDFLIX_REDIS_PASSWORD"},
		{"Redis elsewhere with a password", func(b *config.Backends) { b.Redis.Addr = "redis:6379"; b.Redis.Password = "s3cret" }, ""},
		{"Redis on IPv6 loopback without a password", func(b *config.Backends) { b.Redis.Addr = "[::1]:6379" }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := production()
			c.change(&b)
			err := CheckCredentials(b)
			switch {
			case c.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)):
				t.Fatalf("err = %v, want a refusal naming %s", err, c.refused)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("the refusal shows a secret: %v", err)
			}
		})
	}
	b := production()
	b.S3.SecretKey = ""
	if _, err := NewProcess(prometheus.NewRegistry(), time.Second, b, testKey); err == nil || !strings.Contains(err.Error(), "CLOUDFLIX_S3_SECRET_KEY") {
		t.Fatalf("NewProcess with no S3 secret key: %v", err)
	}
}
