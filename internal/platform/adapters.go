package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/blob/localblob"
	"github.com/cloudflix/cloudflix/internal/blob/s3blob"
	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/cache/memcache"
	"github.com/cloudflix/cloudflix/internal/cache/rediscache"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/queue/memqueue"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/pgstore"
	"github.com/cloudflix/cloudflix/internal/store/sqlitestore"
)

// UploadPartsPath is where the router serves local storage's part uploads.
const UploadPartsPath = "/storage/parts"

// OpenStore opens the configured metadata store. SQLite is migrated on
// open, since nothing else would; PostgreSQL is migrated by Migrate (a
// deploy step: `cloudflix migrate`).
func OpenStore(ctx context.Context, cfg config.Backends) (store.Store, func() error, error) {
	switch cfg.Metadata {
	case "postgres":
		s, err := pgstore.Open(ctx, pgOptions(cfg))
		if err != nil {
			return nil, nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		return s, func() error { s.Close(); return nil }, nil
	default:
		s, err := sqlitestore.Open(ctx, sqliteOptions(cfg))
		if err != nil {
			return nil, nil, fmt.Errorf("SQLite: %w", err)
		}
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, nil, fmt.Errorf("SQLite: %w", err)
		}
		return s, s.Close, nil
	}
}

// Migrate brings the configured metadata store's schema up to date,
// creating the database (or the file) when there is none yet.
func Migrate(ctx context.Context, cfg config.Backends) error {
	if cfg.Metadata == "postgres" {
		if err := pgstore.Migrate(ctx, pgOptions(cfg)); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		return nil
	}
	if err := sqlitestore.Migrate(ctx, sqliteOptions(cfg)); err != nil {
		return fmt.Errorf("SQLite: %w", err)
	}
	return nil
}

func pgOptions(cfg config.Backends) pgstore.Options {
	return pgstore.Options{URL: string(cfg.Postgres.URL), MaxConns: cfg.Postgres.MaxConns, Tracer: queryTracer{}}
}

func sqliteOptions(cfg config.Backends) sqlitestore.Options {
	return sqlitestore.Options{Path: metadataPath(cfg)}
}

// The embedded backends' files in the data folder: the SQLite database,
// local storage's folder, and the key of its upload URLs.
func metadataPath(cfg config.Backends) string   { return filepath.Join(cfg.DataDir, "metadata.db") }
func storageDir(cfg config.Backends) string     { return filepath.Join(cfg.DataDir, "storage") }
func signingKeyPath(cfg config.Backends) string { return filepath.Join(cfg.DataDir, "storage.key") }

func openObjects(ctx context.Context, cfg config.Backends) (blob.Store, http.Handler, error) {
	if cfg.Storage == "s3" {
		c := cfg.S3
		s, err := s3blob.Open(ctx, s3blob.Options{
			Endpoint:       c.Endpoint,
			PublicEndpoint: c.PublicEndpoint,
			AccessKey:      c.AccessKey,
			SecretKey:      string(c.SecretKey),
			Bucket:         c.Bucket,
			Region:         c.Region,
			UseTLS:         c.TLS,
			Transport: otelhttp.NewTransport(http.DefaultTransport,
				otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "s3 " + r.Method })),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("S3: %w", err)
		}
		if err := s.EnsureBucket(ctx); err != nil {
			return nil, nil, fmt.Errorf("S3 bucket %s: %w", c.Bucket, err)
		}
		return s, nil, nil
	}
	key, err := signingKey(cfg)
	if err != nil {
		return nil, nil, err
	}
	s, err := localblob.Open(localblob.Options{Dir: storageDir(cfg), PartURL: UploadPartsPath, SigningKey: key})
	if err != nil {
		return nil, nil, err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return nil, nil, err
	}
	return s, s.PartHandler(), nil
}

// signingKey is the configured key, or one kept in the data folder so that
// upload URLs stay valid across restarts.
func signingKey(cfg config.Backends) ([]byte, error) {
	if cfg.SigningKey != "" {
		k, err := hex.DecodeString(string(cfg.SigningKey))
		if err != nil || len(k) < localblob.MinSigningKey {
			return nil, fmt.Errorf("config: CLOUDFLIX_STORAGE_SIGNING_KEY must be %d or more bytes in hex", localblob.MinSigningKey)
		}
		return k, nil
	}
	path := signingKeyPath(cfg)
	if b, err := os.ReadFile(path); err == nil {
		if k, err := hex.DecodeString(strings.TrimSpace(string(b))); err == nil && len(k) >= localblob.MinSigningKey {
			return k, nil
		}
		return nil, fmt.Errorf("%s does not hold a valid key; remove it to have a new one made", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep signing key: %w", err)
	}
	return k, nil
}

func openCache(ctx context.Context, cfg config.Backends, reg prometheus.Registerer) (cache.Cache, func() error, error) {
	if cfg.Cache == "redis" {
		c := cfg.Redis
		r, err := rediscache.Open(ctx, rediscache.Options{Addr: c.Addr, Password: string(c.Password), DB: c.DB, Prefix: c.Prefix, Timeout: c.Timeout, Hook: redisTracer{}})
		if err != nil {
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		available := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cloudflix_cache_available",
			Help: "1 while cache commands are sent to Redis, 0 while its circuit breaker is open after failures and reads go to the database.",
		}, func() float64 {
			if r.Available() {
				return 1
			}
			return 0
		})
		if err := reg.Register(available); err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		return r, func() error { reg.Unregister(available); return r.Close() }, nil
	}
	m := memcache.New(memcache.Options{})
	return m, m.Close, nil
}

func newMemQueue(cfg config.Backends) *memqueue.Queue {
	return memqueue.New(memqueue.Options{Name: "encode", Prefetch: 1, MaxDeliveries: cfg.AMQP.MaxDeliveries})
}

func openRabbitMQ(ctx context.Context, c config.AMQP, name string, prefetch int) (*amqpqueue.Queue, error) {
	q, err := amqpqueue.Open(ctx, amqpqueue.Options{
		URL: string(c.URL), Queue: c.Queue, MaxDeliveries: c.MaxDeliveries, Prefetch: prefetch, ConnectionName: name,
	})
	if err != nil {
		return nil, fmt.Errorf("RabbitMQ: %w", err)
	}
	return q, nil
}

// lockDataDir takes an exclusive lock on the data folder for this process.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "cloudflix.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another cloudflix process is using the data dir %s (%w)", dir, err)
	}
	return f, nil
}
