package router

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/felixge/httpsnoop"

	"github.com/cloudflix/cloudflix/internal/admit"
	"github.com/cloudflix/cloudflix/internal/auth"
)

// What the edge takes on at once. Under more load than the services
// behind it can serve, the edge keeps serving what it admitted at the
// latency they serve it, and refuses the rest at once: a request over its
// route class's concurrency limit gets 503 with Retry-After before any
// work is done for it (no queue: a refusal costs microseconds, a wait
// would hold a connection and its memory), and a client over its rate
// gets 429 with the time its next request will be admitted. /healthz,
// /readyz and /metrics are served beside the edge and never refused; the
// server itself caps its connections (ops.Timeouts.MaxConns).

// class is a kind of route with a concurrency limit of its own, so that a
// flood of one kind (searches, say) cannot starve the others.
type class int

const (
	classRead   class = iota // API reads: GET and HEAD under /api/ and /auth/
	classSearch              // search and suggestions, the costliest reads
	classWrite               // API requests that change something
	classUpload              // part uploads to local storage: long, paced by the client
	classMedia               // media answers: long, paced by the player
	classes
)

var classNames = [classes]string{"read", "search", "write", "upload", "media"}

func (c class) String() string { return classNames[c] }

// classOf is the class of a request, from its method and path.
func classOf(r *http.Request) class {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/media/"):
		return classMedia
	case strings.HasPrefix(p, partsPrefix):
		return classUpload
	case p == "/api/v1/search" || strings.HasPrefix(p, "/api/v1/search/"):
		return classSearch
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return classRead
	}
	return classWrite
}

// Admission bounds what the edge takes on: requests under way at once per
// route class, and requests a second per client.
type Admission struct {
	// Read, Search, Write, Upload and Media are the most requests of each
	// class under way at once; 0 takes DefaultAdmission's.
	Read, Search, Write, Upload, Media int
	// Adaptive moves the read, search and write limits with the latency
	// the services answer at, between an eighth of each and all of it.
	// Uploads and media take as long as the client's bytes do, which says
	// nothing of the services: their limits stay fixed.
	Adaptive bool
	// ClientRate is the requests a second one client may make on average
	// (a signed-in user, else an address), with bursts of ClientBurst; 0
	// sets no rate.
	ClientRate  float64
	ClientBurst int
}

// DefaultAdmission are the limits per class when Options leave them unset.
var DefaultAdmission = Admission{Read: 128, Search: 32, Write: 32, Upload: 64, Media: 512}

// rateKeys is how many clients' rates are remembered; past it the least
// recently seen is forgotten (and comes back with a full bucket). A
// client takes some 250 bytes: this is at most some 16 MiB.
const rateKeys = 65536

// busyRetry is the Retry-After of a request refused for load: soon, since
// capacity frees as fast as requests end.
const busyRetry = 1

// gates are the edge's limits and what it counts of them.
type gates struct {
	limits [classes]*admit.Limit
	rates  *admit.Rates
	m      *metrics
}

func newGates(o Admission, m *metrics) *gates {
	d := DefaultAdmission
	most := [classes]int{o.Read, o.Search, o.Write, o.Upload, o.Media}
	def := [classes]int{d.Read, d.Search, d.Write, d.Upload, d.Media}
	g := &gates{rates: admit.NewRates(o.ClientRate, o.ClientBurst, rateKeys), m: m}
	for c := range classes {
		if most[c] <= 0 {
			most[c] = def[c]
		}
		adaptive := o.Adaptive && c != classUpload && c != classMedia
		g.limits[c] = admit.NewLimit(admit.LimitConfig{Max: most[c], Adaptive: adaptive, Min: most[c] / 8})
		m.limit.WithLabelValues(c.String()).Set(float64(g.limits[c].Current()))
	}
	return g
}

// admit serves r through next if its class has room, and refuses it with
// 503 and Retry-After otherwise.
func (a *api) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := classOf(r)
		lim := a.gates.limits[c]
		name := c.String()
		if !lim.Acquire() {
			a.gates.m.refused.WithLabelValues(name, "overload").Inc()
			if c == classUpload {
				// As storage answers, so that a browser's uploader, which
				// PUTs from the UI's origin, reads the refusal.
				w.Header().Set("Access-Control-Allow-Origin", "*")
			}
			a.writeError(w, r, &edgeError{status: http.StatusServiceUnavailable, code: "unavailable",
				msg: "the server is busy with " + name + " requests; try again shortly", retryAfter: busyRetry})
			return
		}
		a.gates.m.admitted.WithLabelValues(name).Inc()
		a.gates.m.inFlight.WithLabelValues(name).Inc()
		began, code := time.Now(), 0
		// Deferred, so that a handler that panics (net/http recovers it)
		// gives its place back.
		defer func() {
			a.gates.m.inFlight.WithLabelValues(name).Dec()
			lim.Release(time.Since(began), outcome(r, code))
			a.gates.m.limit.WithLabelValues(name).Set(float64(lim.Current()))
		}()
		code = httpsnoop.CaptureMetrics(next, w, r).Code
	})
}

// outcome is what an answered request says of the capacity behind the
// edge: a service that was unavailable or out of time is overloaded; a
// client that went away says nothing.
func outcome(r *http.Request, code int) admit.Outcome {
	switch {
	case r.Context().Err() != nil || code == 499 || code == 0: // 0: it panicked
		return admit.Ignored
	case code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return admit.Dropped
	}
	return admit.Served
}

// withinRate refuses r with 429 when its client is over its rate. The
// client is the signed-in user, else the address (an IPv6 one by its /64,
// which one host can take addresses from at will).
func (a *api) withinRate(r *http.Request) error {
	key := "addr:" + addressKey(a.proxies.clientIP(r))
	if p := auth.FromContext(r.Context()); !p.Anonymous() {
		key = "user:" + p.UserID
	}
	ok, wait := a.gates.rates.Allow(key, time.Now())
	if ok {
		return nil
	}
	a.gates.m.refused.WithLabelValues(classOf(r).String(), "rate").Inc()
	secs := max(1, int((wait+time.Second-1)/time.Second))
	return &edgeError{status: http.StatusTooManyRequests, code: "resource_exhausted",
		msg: "too many requests from this client; try again in " + strconv.Itoa(secs) + "s", retryAfter: secs}
}

// addressKey is the address an IPv4 client is known by, or the /64 of an
// IPv6 one.
func addressKey(ip string) string {
	parsed := net.ParseIP(ip)
	if parsed == nil || parsed.To4() != nil {
		return ip
	}
	return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
