// Package config reads CloudFlix's configuration from CLOUDFLIX_* environment
// variables into one typed struct per target. Defaults live in the struct tags
// and work for `serve --target=all` on one machine; secrets are masked
// whenever a config is logged. It never reads files or flags: the CLI owns
// flags.
package config

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Secret is a string that never shows its value in logs.
type Secret string

// LogValue masks the secret for log/slog.
func (s Secret) LogValue() slog.Value {
	if s == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("***")
}

// String masks the secret for fmt.
func (s Secret) String() string { return s.LogValue().String() }

// Process is what every process has, whatever its targets.
type Process struct {
	LogLevel string `env:"CLOUDFLIX_LOG_LEVEL" default:"info" help:"debug, info, warn or error"`
	// AdminAddr serves /healthz, /readyz with the errors of failing
	// dependencies, and /metrics: operators' reading, so it listens on
	// loopback unless told otherwise (a pod listens on every interface
	// for Prometheus and the kubelet, behind a NetworkPolicy).
	AdminAddr string `env:"CLOUDFLIX_ADMIN_ADDR" default:"127.0.0.1:9100" help:"listen address of /healthz, /readyz (with the errors of failing dependencies) and /metrics; keep it private"`
	// OTLPEndpoint is an OTLP/gRPC collector (Jaeger v2 takes it); empty
	// keeps tracing inside the process (trace ids still reach the logs).
	OTLPEndpoint string        `env:"CLOUDFLIX_OTLP_ENDPOINT" help:"OTLP/gRPC trace collector, host:port; empty: no export"`
	ShutdownWait time.Duration `env:"CLOUDFLIX_SHUTDOWN_TIMEOUT" default:"20s" help:"how long a graceful shutdown may take"`
	// InternalKey signs who is asking between the edge and the services,
	// and the links to private media; all processes of an install share it.
	InternalKey Secret `env:"CLOUDFLIX_INTERNAL_KEY" help:"hex key (32+ bytes) shared by every process of the install: signs the caller's identity between the router and the services, and private media links; empty: a new one each start, only when every target runs in one process on the embedded backends"`
	// GRPCInMemory spares the router and the services of one process the
	// loopback TCP between them; false keeps it, to compare.
	GRPCInMemory bool `env:"CLOUDFLIX_GRPC_IN_MEMORY" default:"true" help:"the router calls the services that run in its own process through memory; false: through their gRPC ports over loopback TCP, as between processes"`
}

// Backends choose and configure the adapter behind each port. The defaults
// are the embedded adapters: one process, everything under DataDir, no
// server to run. Each port can be switched on its own.
type Backends struct {
	DataDir    string `env:"CLOUDFLIX_DATA_DIR" default:"./data" help:"folder of the embedded backends' data"`
	Metadata   string `env:"CLOUDFLIX_METADATA" default:"sqlite" help:"metadata store: sqlite (embedded) or postgres"`
	Storage    string `env:"CLOUDFLIX_STORAGE" default:"local" help:"object storage: local (a folder in the data dir) or s3"`
	Cache      string `env:"CLOUDFLIX_CACHE" default:"memory" help:"cache: memory (in-process) or redis"`
	Queue      string `env:"CLOUDFLIX_QUEUE" default:"memory" help:"job queue: memory (in-process) or rabbitmq"`
	SigningKey Secret `env:"CLOUDFLIX_STORAGE_SIGNING_KEY" help:"hex HMAC key (32+ bytes) of local storage's upload URLs; empty: one kept in the data dir"`
	Postgres   Postgres
	Redis      Redis
	AMQP       AMQP
	S3         S3
}

// Check rejects unknown backend names.
func (b Backends) Check() error {
	for _, c := range []struct{ name, value, a, b string }{
		{"CLOUDFLIX_METADATA", b.Metadata, "sqlite", "postgres"},
		{"CLOUDFLIX_STORAGE", b.Storage, "local", "s3"},
		{"CLOUDFLIX_CACHE", b.Cache, "memory", "redis"},
		{"CLOUDFLIX_QUEUE", b.Queue, "memory", "rabbitmq"},
	} {
		if c.value != c.a && c.value != c.b {
			return fmt.Errorf("config: %s=%q: choose %s or %s", c.name, c.value, c.a, c.b)
		}
	}
	return nil
}

// InProcess lists the variables that select a backend living inside the
// process, which only works when every target runs in that one process.
func (b Backends) InProcess() []string {
	var out []string
	if b.Cache == "memory" {
		out = append(out, "CLOUDFLIX_CACHE=memory")
	}
	if b.Queue == "memory" {
		out = append(out, "CLOUDFLIX_QUEUE=memory")
	}
	if b.Storage == "local" {
		out = append(out, "CLOUDFLIX_STORAGE=local")
	}
	if b.Metadata == "sqlite" {
		out = append(out, "CLOUDFLIX_METADATA=sqlite")
	}
	return out
}

// Embedded reports whether every port has its embedded adapter: nothing
// of the install lives outside this process and its data folder.
func (b Backends) Embedded() bool {
	return b.Metadata == "sqlite" && b.Storage == "local" && b.Cache == "memory" && b.Queue == "memory"
}

// Postgres is the metadata database.
type Postgres struct {
	URL      Secret `env:"CLOUDFLIX_POSTGRES_URL" default:"postgres://postgres@127.0.0.1:5432/cloudflix?sslmode=disable" help:"PostgreSQL connection URL; with a password unless the server is on this machine (or reached by a Unix socket or a client certificate)"`
	MaxConns int32  `env:"CLOUDFLIX_POSTGRES_MAX_CONNS" default:"10" help:"connection pool size per service"`
}

// Redis is the cache.
type Redis struct {
	Addr     string        `env:"CLOUDFLIX_REDIS_ADDR" default:"127.0.0.1:6379" help:"Redis host:port"`
	Password Secret        `env:"CLOUDFLIX_REDIS_PASSWORD" help:"Redis password; required unless Redis is on this machine"`
	DB       int           `env:"CLOUDFLIX_REDIS_DB" default:"0" help:"Redis database number"`
	Prefix   string        `env:"CLOUDFLIX_REDIS_PREFIX" default:"cloudflix:" help:"prefix of every key"`
	Timeout  time.Duration `env:"CLOUDFLIX_REDIS_TIMEOUT" default:"200ms" help:"how long one cache command may take, connecting included; a slower or failing Redis is passed by (three failures in a row stop commands for a second), and reads go to the database"`
}

// AMQP is the job queue.
type AMQP struct {
	URL           Secret `env:"CLOUDFLIX_AMQP_URL" default:"amqp://guest:guest@127.0.0.1:5672/" help:"RabbitMQ URL; with a user and password of its own (not guest) unless RabbitMQ is on this machine"`
	Queue         string `env:"CLOUDFLIX_AMQP_QUEUE" default:"cloudflix.encode" help:"encode job queue; its dead-letter queue is QUEUE.dlq"`
	MaxDeliveries int    `env:"CLOUDFLIX_AMQP_MAX_DELIVERIES" default:"5" help:"deliveries of a message before it is dead-lettered"`
}

// S3 is the object storage.
type S3 struct {
	Endpoint       string `env:"CLOUDFLIX_S3_ENDPOINT" default:"127.0.0.1:9000" help:"S3 API host:port"`
	PublicEndpoint string `env:"CLOUDFLIX_S3_PUBLIC_ENDPOINT" help:"host:port clients use for presigned upload URLs; empty: the endpoint"`
	AccessKey      string `env:"CLOUDFLIX_S3_ACCESS_KEY" default:"cloudflix" help:"S3 access key"`
	SecretKey      Secret `env:"CLOUDFLIX_S3_SECRET_KEY" help:"S3 secret key (required with s3)"`
	Bucket         string `env:"CLOUDFLIX_S3_BUCKET" default:"cloudflix" help:"bucket of sources and renditions"`
	Region         string `env:"CLOUDFLIX_S3_REGION" default:"us-east-1" help:"S3 region"`
	TLS            bool   `env:"CLOUDFLIX_S3_TLS" default:"false" help:"use HTTPS to reach S3"`
}

// GRPCAddrs are where the four gRPC services listen and where the router
// dials them (Kubernetes: dns:///cloudflix-upload:9090 and the like).
type GRPCAddrs struct {
	UploadListen  string `env:"CLOUDFLIX_UPLOAD_GRPC_ADDR" default:"127.0.0.1:9101" help:"upload service gRPC listen address"`
	HostListen    string `env:"CLOUDFLIX_HOST_GRPC_ADDR" default:"127.0.0.1:9102" help:"host service gRPC listen address"`
	SearchListen  string `env:"CLOUDFLIX_SEARCH_GRPC_ADDR" default:"127.0.0.1:9103" help:"search service gRPC listen address"`
	EncodeListen  string `env:"CLOUDFLIX_ENCODE_GRPC_ADDR" default:"127.0.0.1:9104" help:"encode service gRPC listen address"`
	UploadTarget  string `env:"CLOUDFLIX_UPLOAD_TARGET" default:"127.0.0.1:9101" help:"gRPC target the router dials for uploads"`
	HostTarget    string `env:"CLOUDFLIX_HOST_TARGET" default:"127.0.0.1:9102" help:"gRPC target the router dials for video info"`
	SearchTarget  string `env:"CLOUDFLIX_SEARCH_TARGET" default:"127.0.0.1:9103" help:"gRPC target the router dials for search"`
	EncodeTarget  string `env:"CLOUDFLIX_ENCODE_TARGET" default:"127.0.0.1:9104" help:"gRPC target the router dials for encode control"`
	AccountListen string `env:"CLOUDFLIX_ACCOUNT_GRPC_ADDR" default:"127.0.0.1:9105" help:"account service gRPC listen address"`
	AccountTarget string `env:"CLOUDFLIX_ACCOUNT_TARGET" default:"127.0.0.1:9105" help:"gRPC target the router dials for sign-in and accounts"`
}

// Quotas are the defaults of every user's quotas; an admin sets a user's
// own. -1 is unlimited.
type Quotas struct {
	Storage int64 `env:"CLOUDFLIX_QUOTA_STORAGE_BYTES" default:"53687091200" help:"bytes of video a user may keep, unless an admin sets theirs; -1: unlimited"`
	Daily   int64 `env:"CLOUDFLIX_QUOTA_DAILY_BYTES" default:"10737418240" help:"bytes a user may upload in 24 hours, unless an admin sets theirs; -1: unlimited"`
}

// Account is the account service.
type Account struct {
	GRPC       GRPCAddrs
	Quotas     Quotas
	SignUp     string        `env:"CLOUDFLIX_SIGNUP" default:"open" help:"who may make an account: open (anyone), invite (with an invitation) or closed (admins make them)"`
	SessionTTL time.Duration `env:"CLOUDFLIX_SESSION_TTL" default:"720h" help:"how long a browser stays signed in"`
	InviteTTL  time.Duration `env:"CLOUDFLIX_INVITE_TTL" default:"168h" help:"how long an invitation can be used"`
	OIDC       OIDC
}

// OIDC is the OpenID Connect provider people may sign in with.
type OIDC struct {
	Issuer       string `env:"CLOUDFLIX_OIDC_ISSUER" help:"issuer URL of an OpenID Connect provider to sign in with; empty: none"`
	ClientID     string `env:"CLOUDFLIX_OIDC_CLIENT_ID" help:"client id CloudFlix has at the OpenID provider"`
	ClientSecret Secret `env:"CLOUDFLIX_OIDC_CLIENT_SECRET" help:"client secret CloudFlix has at the OpenID provider"`
	Name         string `env:"CLOUDFLIX_OIDC_NAME" default:"single sign-on" help:"the provider's name on the sign-in page"`
}

// Router is the HTTP edge.
type Router struct {
	HTTPAddr       string   `env:"CLOUDFLIX_HTTP_ADDR" default:":8080" help:"HTTP listen address of the API, media and UI"`
	PublicURL      string   `env:"CLOUDFLIX_PUBLIC_URL" help:"the site's address as people reach it, e.g. https://videos.example.org: prefixes media links, is the only Host and Origin answered, makes cookies Secure when https; empty: relative links, any Host"`
	TrustedProxies []string `env:"CLOUDFLIX_TRUSTED_PROXIES" help:"addresses or CIDR networks of the proxies in front of the router, whose X-Forwarded-For names the client, comma separated"`
	GRPC           GRPCAddrs
	// The edge's deadlines: an API request is short, while a part upload
	// or a media answer may rightly take long and is held to a rate.
	ReadTimeout  time.Duration `env:"CLOUDFLIX_HTTP_READ_TIMEOUT" default:"30s" help:"how long a request's headers and body may take to arrive; part uploads go at CLOUDFLIX_HTTP_MIN_RATE instead"`
	WriteTimeout time.Duration `env:"CLOUDFLIX_HTTP_WRITE_TIMEOUT" default:"2m" help:"how long an answer may take, from the end of the request's headers; media goes at CLOUDFLIX_HTTP_MIN_RATE instead"`
	MinRate      int64         `env:"CLOUDFLIX_HTTP_MIN_RATE" default:"16384" help:"bytes per second a part upload (local storage) or a media answer must average over each CLOUDFLIX_HTTP_RATE_WINDOW, or its connection is cut"`
	RateWindow   time.Duration `env:"CLOUDFLIX_HTTP_RATE_WINDOW" default:"20s" help:"the window over which CLOUDFLIX_HTTP_MIN_RATE is averaged"`
	// What the edge takes on at once: beyond a class's limit a request is
	// refused at once with 503, beyond a client's rate with 429.
	MaxConns       int     `env:"CLOUDFLIX_HTTP_MAX_CONNS" default:"4096" help:"connections the router keeps open at once; more wait to be accepted"`
	LimitRead      int     `env:"CLOUDFLIX_HTTP_LIMIT_READ" default:"128" help:"API reads (GET) under way at once; more are refused with 503 and Retry-After"`
	LimitSearch    int     `env:"CLOUDFLIX_HTTP_LIMIT_SEARCH" default:"32" help:"searches and suggestions under way at once; more are refused with 503 and Retry-After"`
	LimitWrite     int     `env:"CLOUDFLIX_HTTP_LIMIT_WRITE" default:"32" help:"API requests that change something under way at once; more are refused with 503 and Retry-After"`
	LimitUpload    int     `env:"CLOUDFLIX_HTTP_LIMIT_UPLOAD" default:"64" help:"part uploads (local storage) under way at once; more are refused with 503 and Retry-After"`
	LimitMedia     int     `env:"CLOUDFLIX_HTTP_LIMIT_MEDIA" default:"512" help:"media answers under way at once; more are refused with 503 and Retry-After"`
	AdaptiveLimits bool    `env:"CLOUDFLIX_HTTP_ADAPTIVE_LIMITS" default:"false" help:"move the read, search and write limits with the services' latency, between an eighth of each and all of it; false: they stay as set"`
	ClientRate     float64 `env:"CLOUDFLIX_HTTP_CLIENT_RATE" default:"100" help:"requests a second one client (a signed-in user, else an address) may make on average; more are refused with 429 and Retry-After; 0: no limit"`
	ClientBurst    int     `env:"CLOUDFLIX_HTTP_CLIENT_BURST" default:"400" help:"requests one client may make at once above CLOUDFLIX_HTTP_CLIENT_RATE"`
}

// Upload is the upload service.
type Upload struct {
	GRPC         GRPCAddrs
	Quotas       Quotas
	MaxBytes     int64         `env:"CLOUDFLIX_UPLOAD_MAX_BYTES" default:"10737418240" help:"largest upload accepted, in bytes"`
	PartSize     int64         `env:"CLOUDFLIX_UPLOAD_PART_SIZE" default:"16777216" help:"multipart part size in bytes (at least 5 MiB)"`
	SessionTTL   time.Duration `env:"CLOUDFLIX_UPLOAD_SESSION_TTL" default:"24h" help:"how long an upload may stay open"`
	PresignTTL   time.Duration `env:"CLOUDFLIX_UPLOAD_PRESIGN_TTL" default:"15m" help:"lifetime of a presigned part URL"`
	AllowedTypes []string      `env:"CLOUDFLIX_UPLOAD_ALLOWED_TYPES" default:"video/mp4,video/quicktime,video/webm,video/x-matroska,video/x-msvideo,video/mpeg,video/mp2t,video/ogg,video/3gpp,video/x-flv" help:"media types accepted, comma separated"`
	Janitor      Janitor
	Webhooks     Webhooks
}

// Webhooks are the deliveries the upload target sends, and the endpoints
// users may register.
type Webhooks struct {
	Timeout         time.Duration `env:"CLOUDFLIX_WEBHOOK_TIMEOUT" default:"10s" help:"how long one webhook delivery may take, connecting included; a slower endpoint's delivery is tried again later"`
	MaxAttempts     int           `env:"CLOUDFLIX_WEBHOOK_MAX_ATTEMPTS" default:"12" help:"attempts of one webhook delivery, 30 s apart at first and twice as long each time (at most 6 h), before it is marked failed"`
	MaxEndpoints    int           `env:"CLOUDFLIX_WEBHOOK_MAX_ENDPOINTS" default:"20" help:"webhook endpoints one user may register"`
	AllowedNetworks []string      `env:"CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS" help:"networks (CIDRs or addresses, comma separated) that webhook endpoints may be on although they are loopback, private, link-local or otherwise not public; empty: public addresses only"`
}

// Check rejects bounds that would send nothing and networks that are no
// CIDRs.
func (w Webhooks) Check() error {
	if w.Timeout <= 0 || w.MaxAttempts < 1 || w.MaxEndpoints < 1 {
		return fmt.Errorf("config: CLOUDFLIX_WEBHOOK_TIMEOUT, CLOUDFLIX_WEBHOOK_MAX_ATTEMPTS and CLOUDFLIX_WEBHOOK_MAX_ENDPOINTS must be positive")
	}
	return nil
}

// Janitor is the cleanup the upload target runs: one replica of an install
// at a time, under a lease in the metadata store.
type Janitor struct {
	Interval        time.Duration `env:"CLOUDFLIX_JANITOR_INTERVAL" default:"10m" help:"how often the janitor cleans up (one replica of the install at a time); 0: never"`
	OutboxAge       time.Duration `env:"CLOUDFLIX_JANITOR_OUTBOX_AGE" default:"168h" help:"sent encode jobs older than this are purged from the outbox"`
	FailedSourceAge time.Duration `env:"CLOUDFLIX_JANITOR_FAILED_SOURCE_AGE" default:"720h" help:"the source of a video failed (and unchanged) this long is removed; the video stays, failed, with its reason, and cannot be encoded again"`
	OrphanMode      string        `env:"CLOUDFLIX_JANITOR_ORPHAN_MODE" default:"dry-run" help:"objects under sources/ and videos/ that no video owns: dry-run (count and log them) or delete"`
	WebhookAge      time.Duration `env:"CLOUDFLIX_JANITOR_WEBHOOK_AGE" default:"720h" help:"webhook deliveries finished (delivered or failed) longer ago than this leave their endpoint's log"`
	OrphanMinAge    time.Duration `env:"CLOUDFLIX_JANITOR_ORPHAN_MIN_AGE" default:"1h" help:"an object no video owns is left alone until it is this old, so that work just begun is never taken for an orphan"`
}

// Check rejects an unknown orphan mode.
func (j Janitor) Check() error {
	if j.OrphanMode != "dry-run" && j.OrphanMode != "delete" {
		return fmt.Errorf("config: CLOUDFLIX_JANITOR_ORPHAN_MODE=%q: choose dry-run or delete", j.OrphanMode)
	}
	return nil
}

// Host is the read side.
type Host struct {
	GRPC          GRPCAddrs
	CacheTTL      time.Duration `env:"CLOUDFLIX_CACHE_TTL" default:"5m" help:"cache lifetime of a ready or failed video's info"`
	ViewFlushEach time.Duration `env:"CLOUDFLIX_VIEW_FLUSH_INTERVAL" default:"5s" help:"how often counted views are written to the metadata store"`
	ViewWindow    time.Duration `env:"CLOUDFLIX_VIEW_WINDOW" default:"1h" help:"a viewer's views of one video count once within this window (a signed-in user by their id, others by a keyed hash of address and User-Agent)"`
	// The defaults are video.DefaultCommentRate and
	// moderation.DefaultReportRate.
	CommentBurst  int           `env:"CLOUDFLIX_COMMENT_BURST" default:"10" help:"comments a user may post at once"`
	CommentRefill time.Duration `env:"CLOUDFLIX_COMMENT_REFILL" default:"20s" help:"after the burst, a user may post one more comment each this long; 0: no limit"`
	ReportLimit   int           `env:"CLOUDFLIX_REPORT_LIMIT" default:"20" help:"reports a user may file or change within CLOUDFLIX_REPORT_WINDOW"`
	ReportWindow  time.Duration `env:"CLOUDFLIX_REPORT_WINDOW" default:"1h" help:"the window CLOUDFLIX_REPORT_LIMIT counts reports in"`
}

// Check rejects a view window that could not hold a mark, and limits on
// comments and reports that would let nobody post or report.
func (h Host) Check() error {
	if h.ViewWindow <= 0 {
		return fmt.Errorf("config: CLOUDFLIX_VIEW_WINDOW=%v: a window must be longer than nothing", h.ViewWindow)
	}
	if h.CommentBurst < 1 || h.CommentRefill < 0 {
		return fmt.Errorf("config: CLOUDFLIX_COMMENT_BURST=%d, CLOUDFLIX_COMMENT_REFILL=%v: a burst of at least one comment and a refill of no less than nothing", h.CommentBurst, h.CommentRefill)
	}
	if h.ReportLimit < 1 || h.ReportWindow <= 0 {
		return fmt.Errorf("config: CLOUDFLIX_REPORT_LIMIT=%d, CLOUDFLIX_REPORT_WINDOW=%v: at least one report within a window longer than nothing", h.ReportLimit, h.ReportWindow)
	}
	return nil
}

// Search is the search service.
type Search struct {
	GRPC     GRPCAddrs
	CacheTTL time.Duration `env:"CLOUDFLIX_SEARCH_CACHE_TTL" default:"15s" help:"cache lifetime of a search result page"`
}

// Encode is the encode worker.
type Encode struct {
	GRPC        GRPCAddrs
	WorkDir     string        `env:"CLOUDFLIX_ENCODE_WORKDIR" help:"scratch folder for sources and renditions; empty: the system temp folder"`
	Preset      string        `env:"CLOUDFLIX_ENCODE_PRESET" default:"veryfast" help:"x264 preset"`
	Workers     int           `env:"CLOUDFLIX_ENCODE_WORKERS" default:"1" help:"encodes run at once by this process"`
	Lease       time.Duration `env:"CLOUDFLIX_ENCODE_LEASE" default:"2m" help:"encode lease, renewed while the encode runs"`
	MaxAttempts int           `env:"CLOUDFLIX_ENCODE_MAX_ATTEMPTS" default:"3" help:"encode attempts before a video fails"`
	MaxDuration time.Duration `env:"CLOUDFLIX_ENCODE_MAX_DURATION" default:"4h" help:"longest video accepted"`
	// The size limits admit DCI 4K (4096x2160) either way up and square
	// 4K; a larger picture costs memory and decoding for nothing, since
	// the top rendition is 2160p.
	MaxWidth  int `env:"CLOUDFLIX_ENCODE_MAX_WIDTH" default:"4096" help:"most pixels along a video's long side (its width, or its height if portrait)"`
	MaxHeight int `env:"CLOUDFLIX_ENCODE_MAX_HEIGHT" default:"4096" help:"most pixels along a video's short side"`
	// Decoding costs pixels a second: 4K at 120 frames a second (995
	// million), which phones record, fits; 4K60 takes half of it.
	MaxPixelRate int64 `env:"CLOUDFLIX_ENCODE_MAX_PIXEL_RATE" default:"1000000000" help:"most pixels a second accepted (width x height x frame rate)"`
	// Phones record slow motion at 240 frames a second; renditions show
	// every fourth frame of it.
	MaxFrameRate float64 `env:"CLOUDFLIX_ENCODE_MAX_FRAME_RATE" default:"240" help:"most frames a second accepted"`
	// Four hours at 60 frames a second: the longest video at the highest
	// rate renditions have.
	MaxFrames int64 `env:"CLOUDFLIX_ENCODE_MAX_FRAMES" default:"864000" help:"most frames a video may have"`
	// A 4K60 video, the costliest kind (seven rungs up to 2160p, preset
	// veryfast), took 76 times its duration to encode on two cores
	// shared with a load average of 15, at niceness 10: the factor
	// leaves room for that and its storyboard, and the base for a short
	// video's start-up, thumbnail and storyboard.
	TimeFactor float64       `env:"CLOUDFLIX_ENCODE_TIME_FACTOR" default:"100" help:"an encode may take this many times the video's duration, plus CLOUDFLIX_ENCODE_TIME_BASE, before ffmpeg is stopped and the video fails"`
	TimeBase   time.Duration `env:"CLOUDFLIX_ENCODE_TIME_BASE" default:"10m" help:"time every encode may take on top of CLOUDFLIX_ENCODE_TIME_FACTOR x the video's duration"`
	// 10, nice(1)'s default, gives the services the CPU first while
	// ffmpeg still gets what they leave.
	Nice int `env:"CLOUDFLIX_ENCODE_NICE" default:"10" help:"how much nicer than the services ffmpeg and ffprobe run, 0 (the same) to 19 (yield the most)"`
	// 0 lets ffmpeg start about a thread per core for each encoder; 1
	// gives each encode one core, for a machine that runs an encode per
	// core (CLOUDFLIX_ENCODE_WORKERS).
	Threads int `env:"CLOUDFLIX_ENCODE_THREADS" default:"0" help:"threads each ffmpeg encoder and filter graph may use; 0: ffmpeg chooses, about one per core"`
	// See the README's "Long videos: chunks shared by every worker".
	ChunkFrom   time.Duration `env:"CLOUDFLIX_ENCODE_CHUNK_FROM" default:"1m" help:"videos at least this long are encoded in chunks every free encode worker shares; 0: every video in one pass"`
	ChunkLength time.Duration `env:"CLOUDFLIX_ENCODE_CHUNK_LENGTH" default:"30s" help:"length of a chunk, rounded down to whole 2 s segments"`
	StuckAfter  time.Duration `env:"CLOUDFLIX_ENCODE_STUCK_AFTER" default:"2m" help:"an uploaded video not picked up after this is enqueued again"`
}

// Load fills cfg (a pointer to one of the structs above) from the
// environment, starting from the defaults in its tags.
func Load(cfg any) error { return load(cfg, os.LookupEnv) }

// Defaults fills cfg with the defaults in its tags alone, whatever the
// environment holds.
func Defaults(cfg any) error {
	return load(cfg, func(string) (string, bool) { return "", false })
}

func load(cfg any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load needs a pointer to a struct, got %T", cfg)
	}
	return walk(v.Elem(), func(f reflect.StructField, fv reflect.Value) error {
		raw, ok := lookup(f.Tag.Get("env"))
		if !ok || raw == "" {
			raw = f.Tag.Get("default")
		}
		if err := set(fv, raw); err != nil {
			return fmt.Errorf("config: %s=%q: %w", f.Tag.Get("env"), raw, err)
		}
		return nil
	})
}

// walk calls fn for every field with an env tag, descending into nested
// structs.
func walk(v reflect.Value, fn func(reflect.StructField, reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if f.Tag.Get("env") == "" {
			if fv.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
				if err := walk(fv, fn); err != nil {
					return err
				}
			}
			continue
		}
		if err := fn(f, fv); err != nil {
			return err
		}
	}
	return nil
}

func set(fv reflect.Value, raw string) error {
	switch fv.Interface().(type) {
	case time.Duration:
		if raw == "" {
			fv.SetInt(0)
			return nil
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	case []string:
		var out []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		fv.Set(reflect.ValueOf(out))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		if raw == "" {
			fv.SetBool(false)
			return nil
		}
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case reflect.Float64:
		if raw == "" {
			fv.SetFloat(0)
			return nil
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("not a number")
		}
		fv.SetFloat(f)
	case reflect.Int, reflect.Int32, reflect.Int64:
		if raw == "" {
			fv.SetInt(0)
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetInt(n)
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}

// Variable documents one environment variable.
type Variable struct {
	Name, Default, Help string
	Secret              bool
}

// Variables lists the variables cfg reads, in field order, each once.
func Variables(cfgs ...any) []Variable {
	var out []Variable
	seen := map[string]bool{}
	for _, cfg := range cfgs {
		_ = walk(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, fv reflect.Value) error {
			name := f.Tag.Get("env")
			if !seen[name] {
				seen[name] = true
				out = append(out, Variable{Name: name, Default: f.Tag.Get("default"), Help: f.Tag.Get("help"), Secret: f.Type == reflect.TypeFor[Secret]()})
			}
			return nil
		})
	}
	return out
}

// LogAttrs renders cfg as log attributes with secrets masked, for the one
// start-up line that records the effective configuration.
func LogAttrs(cfg any) []any {
	var attrs []any
	_ = walk(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, fv reflect.Value) error {
		var val any = fv.Interface()
		switch v := val.(type) {
		case Secret:
			val = v.LogValue()
		case time.Duration:
			val = v.String() // "24h0m0s", not nanoseconds
		}
		attrs = append(attrs, slog.Any(f.Tag.Get("env"), val))
		return nil
	})
	return attrs
}
