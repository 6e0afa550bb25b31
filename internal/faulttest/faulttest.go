// Package faulttest puts a fault-injecting TCP proxy (Toxiproxy, run as a
// library in the test's own process) between CloudFlix and one of its real
// backends, so a test can take the backend down, slow it or cut its
// connections mid-exchange, and then heal it, without touching the shared
// server. It listens on loopback only and is for tests only.
package faulttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Fault is what a proxy does to the traffic it carries.
type Fault string

const (
	// Down refuses new connections and closes the open ones, as a stopped
	// server does.
	Down Fault = "down"
	// Slow delays every chunk of traffic each way by the proxy's latency.
	Slow Fault = "slow"
	// Cut lets each connection carry a few hundred more bytes toward the
	// server, then closes it: requests break off mid-way.
	Cut Fault = "cut"
)

// Faults are the three, in the order tests run them.
var Faults = []Fault{Down, Slow, Cut}

// cutAfter is how many bytes toward the server a connection carries once
// cut: enough to have started a request, too few to finish most.
const cutAfter = 300

// listenHost is the loopback address proxies listen on: not 127.0.0.1,
// where tests pick free ports for their own servers (testenv.FreeAddr)
// before listening on them, so that a proxy never takes such a port in
// between.
const listenHost = "127.0.0.2"

var (
	serverOnce sync.Once
	server     *toxiproxy.ApiServer
)

// Proxy is one proxy in front of one backend.
type Proxy struct {
	t     testing.TB
	addr  string
	proxy *toxiproxy.Proxy
	mu    sync.Mutex
	fault Fault
}

// New starts a proxy on a free loopback port in front of upstream
// (host:port); it stops when the test ends.
func New(t testing.TB, upstream string) *Proxy {
	t.Helper()
	serverOnce.Do(func() {
		server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	})
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	p := toxiproxy.NewProxy(server, name, listenHost+":0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("faulttest: proxy to %s: %v", upstream, err)
	}
	t.Cleanup(p.Stop)
	return &Proxy{t: t, addr: p.Listen, proxy: p}
}

// Addr is the proxy's host:port, which the code under test dials instead
// of the backend's.
func (p *Proxy) Addr() string { return p.addr }

// Inject starts fault; latency is the delay each way of Slow and is
// ignored by the others. One fault at a time: Heal ends it.
func (p *Proxy) Inject(f Fault, latency time.Duration) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault != "" {
		p.t.Fatalf("faulttest: %s injected while %s lasts", f, p.fault)
	}
	switch f {
	case Down:
		p.proxy.Stop()
	case Slow:
		ms := latency.Milliseconds()
		p.add(fmt.Sprintf(`{"name":"slow-up","type":"latency","stream":"upstream","attributes":{"latency":%d}}`, ms))
		p.add(fmt.Sprintf(`{"name":"slow-down","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, ms))
	case Cut:
		p.add(fmt.Sprintf(`{"name":"cut","type":"limit_data","stream":"upstream","attributes":{"bytes":%d}}`, cutAfter))
	default:
		p.t.Fatalf("faulttest: unknown fault %q", f)
	}
	p.fault = f
}

// Heal ends the fault: the proxy listens again on the same address and
// carries traffic untouched.
func (p *Proxy) Heal() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault == Down {
		// The port was ours a moment ago; another test could take it in
		// between, so a failure here says so rather than hangs.
		if err := p.proxy.Start(); err != nil {
			p.t.Fatalf("faulttest: listen again on %s: %v", p.Addr(), err)
		}
	}
	p.proxy.Toxics.ResetToxics(context.Background())
	p.fault = ""
}

func (p *Proxy) add(spec string) {
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		p.t.Fatalf("faulttest: add %s: %v", spec, err)
	}
}
