package platform

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/cloudflix/cloudflix/internal/config"
)

// CheckCredentials refuses production backends left with a secret that
// anyone could know: an empty S3 secret key, and a PostgreSQL, RabbitMQ or
// Redis server elsewhere than on this machine reached without a password
// (or, for RabbitMQ, with its well-known guest password). A server on
// loopback is this machine's own, where trust authentication and guest
// are how a developer's servers come; PostgreSQL is also reached safely
// over a Unix socket or with a client certificate. Each refusal names the
// variable to set.
func CheckCredentials(cfg config.Backends) error {
	if cfg.Storage == "s3" && cfg.S3.SecretKey == "" {
		return fmt.Errorf("config: CLOUDFLIX_S3_SECRET_KEY is empty; set the secret key of the S3 access key %q", cfg.S3.AccessKey)
	}
	if cfg.Metadata == "postgres" {
		if err := checkPostgres(string(cfg.Postgres.URL)); err != nil {
			return err
		}
	}
	if cfg.Queue == "rabbitmq" {
		if err := checkAMQP(string(cfg.AMQP.URL)); err != nil {
			return err
		}
	}
	if cfg.Cache == "redis" && cfg.Redis.Password == "" && !onThisMachine(hostOf(cfg.Redis.Addr)) {
		return fmt.Errorf("config: CLOUDFLIX_REDIS_PASSWORD is empty, and Redis at %s is not on this machine: "+
			"anyone who reaches it could change what the cache serves; set its password (requirepass)", cfg.Redis.Addr)
	}
	return nil
}

// checkPostgres reads the URL as the driver does, so a password from
// PGPASSWORD or a password file counts.
func checkPostgres(url string) error {
	pc, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil // opening the store reports it
	}
	if pc.Password != "" || hasClientCertificate(pc.TLSConfig) {
		return nil
	}
	hosts := []string{pc.Host}
	for _, f := range pc.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "/") && !onThisMachine(h) {
			return fmt.Errorf("config: CLOUDFLIX_POSTGRES_URL has no password, and PostgreSQL at %s is not on this machine; "+
				"give the database user's password (or a client certificate, sslcert and sslkey)", h)
		}
	}
	return nil
}

func hasClientCertificate(c *tls.Config) bool {
	return c != nil && (len(c.Certificates) > 0 || c.GetClientCertificate != nil)
}

// checkAMQP refuses RabbitMQ's built-in guest account, or no password, on
// a broker elsewhere, unless a client certificate signs in: RabbitMQ
// itself admits guest only over loopback. A URL without a user means
// guest to the driver.
func checkAMQP(url string) error {
	u, err := amqp.ParseURI(url)
	if err != nil || onThisMachine(u.Host) || u.CertFile != "" {
		return nil // a bad URL: opening the queue reports it
	}
	if u.Password == "" || (u.Username == "guest" && u.Password == "guest") {
		return fmt.Errorf("config: CLOUDFLIX_AMQP_URL uses RabbitMQ's well-known guest account or no password, "+
			"and RabbitMQ at %s is not on this machine; give a user and password of its own", u.Host)
	}
	return nil
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// onThisMachine reports whether host names a loopback address.
func onThisMachine(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
