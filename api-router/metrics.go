package router

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/felixge/httpsnoop"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the edge's RED metrics, labelled by route pattern so that a
// path full of ids is one series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// What admission did, by route class (see admission.go).
	admitted *prometheus.CounterVec
	refused  *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
	limit    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_http_requests_total",
			Help: "HTTP requests served by the edge, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cloudflix_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request at the edge, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_http_admitted_total",
			Help: "Requests the edge admitted, by route class.",
		}, []string{"class"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_http_refused_total",
			Help: "Requests the edge refused before serving them, by route class and reason (overload: 503, the class at its limit; rate: 429, the client over its rate).",
		}, []string{"class", "reason"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cloudflix_http_in_flight",
			Help: "Requests under way at the edge, by route class.",
		}, []string{"class"}),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cloudflix_http_concurrency_limit",
			Help: "Requests the edge admits at once, by route class; adaptive limits move with latency.",
		}, []string{"class"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.duration = register(reg, m.duration)
		m.admitted = register(reg, m.admitted)
		m.refused = register(reg, m.refused)
		m.inFlight = register(reg, m.inFlight)
		m.limit = register(reg, m.limit)
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name, so that two handlers built on one registry share the series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("router: register metrics: " + err.Error())
	}
	return c
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snoop := httpsnoop.CaptureMetrics(next, w, r)
		// The mux set r.Pattern while routing; "" means nothing matched
		// (a redirect to the clean path, or a 404 outside /api/ and /media/).
		route := routeOf(r.Pattern)
		if route == "" {
			route = "unmatched"
		}
		method := metricMethod(r.Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(snoop.Code)).Inc()
		m.duration.WithLabelValues(route, method).Observe(snoop.Duration.Seconds())
	})
}

// metricMethod bounds the method label: any client can send any method.
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}
