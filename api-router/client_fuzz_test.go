package router

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
)

// FuzzClientOf reads any X-Forwarded-For and User-Agent, from the proxies
// in front of the edge or from anyone else. A client not among the proxies
// is known by its own address whatever it writes; behind them, by an
// address from the header that is not a proxy's, or the proxy's own. The
// client's record is one the account service can be sent: UTF-8 within
// its bounds.
func FuzzClientOf(f *testing.F) {
	a := &api{}
	var err error
	if a.proxies, err = parseProxies([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff, userAgent string) {
		if net.ParseIP(peer) == nil {
			return // the peer is the connection's: always an address
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = net.JoinHostPort(peer, "4000")
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("User-Agent", userAgent)
		c := a.clientOf(r)
		if _, err := proto.Marshal(c); err != nil {
			t.Fatalf("the client record %v cannot be sent: %v", c, err)
		}
		if len(c.GetUserAgent()) > 256 || !strings.HasPrefix(strings.ToValidUTF8(userAgent, "\uFFFD"), c.GetUserAgent()) {
			t.Fatalf("user agent %q recorded as %q", userAgent, c.GetUserAgent())
		}
		ip := c.GetIp()
		switch {
		case !a.proxies.trusts(net.ParseIP(peer)):
			if ip != peer {
				t.Fatalf("peer %s, not a proxy, with X-Forwarded-For %q: recorded as %s", peer, xff, ip)
			}
		case ip != peer:
			parsed := net.ParseIP(ip)
			if parsed == nil || a.proxies.trusts(parsed) || !utf8.ValidString(ip) {
				t.Fatalf("peer %s, a proxy, with X-Forwarded-For %q: recorded as %s", peer, xff, ip)
			}
		}
	})
}
