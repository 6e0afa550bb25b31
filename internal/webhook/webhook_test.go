package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

func TestSignAndVerify(t *testing.T) {
	secret := NewSecret()
	if !strings.HasPrefix(secret, "whsec_") || secret == NewSecret() {
		t.Fatalf("secret %q", secret)
	}
	body := []byte(`{"id":"e1","type":"video.ready"}`)
	at := time.Unix(1_800_000_000, 0)
	header := Sign(secret, at, body)
	if !strings.HasPrefix(header, "t=1800000000,v1=") {
		t.Fatalf("header %q", header)
	}
	if err := Verify(header, secret, body, 5*time.Minute, at.Add(time.Minute)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// A receiver keeping two secrets while rotating finds its one.
	if err := Verify(header+",v1=00", secret, body, 5*time.Minute, at); err != nil {
		t.Fatalf("Verify with another signature beside: %v", err)
	}
	for name, bad := range map[string]func() error{
		"another body":    func() error { return Verify(header, secret, append(body, ' '), 5*time.Minute, at) },
		"another secret":  func() error { return Verify(header, NewSecret(), body, 5*time.Minute, at) },
		"too old":         func() error { return Verify(header, secret, body, 5*time.Minute, at.Add(6*time.Minute)) },
		"from the future": func() error { return Verify(header, secret, body, 5*time.Minute, at.Add(-6*time.Minute)) },
		"no timestamp":    func() error { return Verify(strings.Replace(header, "t=", "x=", 1), secret, body, time.Hour, at) },
		"another timestamp": func() error {
			return Verify(strings.Replace(header, "t=1800000000", "t=1800000001", 1), secret, body, time.Hour, at)
		},
		"no signature":       func() error { return Verify("t=1800000000", secret, body, time.Hour, at) },
		"an empty header":    func() error { return Verify("", secret, body, time.Hour, at) },
		"a v0 signature set": func() error { return Verify(strings.Replace(header, "v1=", "v0=", 1), secret, body, time.Hour, at) },
	} {
		if bad() == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestSealer(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := NewSecret()
	a, b := s.Seal(secret), s.Seal(secret)
	if string(a) == string(b) || strings.Contains(string(a), secret) {
		t.Fatal("sealing is not randomised or leaves the secret readable")
	}
	if got, err := s.Open(a); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	a[len(a)-1] ^= 1
	if _, err := s.Open(a); err == nil {
		t.Fatal("a changed seal opened")
	}
	other, _ := NewSealer(make([]byte, 32))
	if _, err := other.Open(b); err == nil {
		t.Fatal("a seal opened under another key")
	}
	if _, err := s.Open([]byte("short")); err == nil {
		t.Fatal("a short seal opened")
	}
}

func TestBackoffGrowsWithJitterUpToItsCap(t *testing.T) {
	base, limit := 30*time.Second, 6*time.Hour
	for range 200 {
		prev := time.Duration(0)
		for attempt := 1; attempt <= 12; attempt++ {
			d := Backoff(attempt, base, limit)
			nominal := min(base<<(attempt-1), limit)
			lo, hi := time.Duration(float64(nominal)*(1-jitter)), time.Duration(float64(nominal)*(1+jitter))
			if d < lo || d > hi {
				t.Fatalf("wait after attempt %d = %v, want within [%v, %v]", attempt, d, lo, hi)
			}
			if nominal < limit && d <= prev {
				t.Fatalf("wait after attempt %d = %v, not longer than the one before (%v)", attempt, d, prev)
			}
			prev = d
		}
	}
}

func TestParseEvents(t *testing.T) {
	got, err := ParseEvents([]string{"video.deleted", " video.ready", "video.ready"})
	if err != nil || len(got) != 2 || got[0] != VideoReady || got[1] != VideoDeleted {
		t.Fatalf("ParseEvents = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {}, {"video.exploded"}, {"webhook.test"}} {
		if _, err := ParseEvents(bad); !video.IsInvalid(err) {
			t.Errorf("ParseEvents(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestVideoEvent(t *testing.T) {
	v := video.Video{ID: "0190a1b2-0000-7000-8000-000000000001", OwnerID: "u1", OwnerName: "ada", Title: "Cats",
		Description: "long words", State: video.StateReady, Privacy: video.PrivacyPrivate, DurationSeconds: 12.5}
	e, err := VideoEvent(VideoDeleted, v, time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		ID        string    `json:"id"`
		Type      EventType `json:"type"`
		CreatedAt time.Time `json:"created_at"`
		Data      struct {
			Video map[string]any `json:"video"`
		} `json:"data"`
	}
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != e.ID || body.Type != VideoDeleted || e.VideoID != v.ID || e.OwnerID != "u1" ||
		body.Data.Video["state"] != "deleted" || body.Data.Video["title"] != "Cats" || body.Data.Video["description"] != nil ||
		!body.CreatedAt.Equal(time.Unix(1_800_000_000, 0)) {
		t.Fatalf("event %+v with body %s", e, e.Payload)
	}
}

// resolver answers every name with the same addresses, as a DNS server
// under the control of an endpoint's owner may.
type resolver []netip.Addr

func (r resolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) { return r, nil }

func TestPolicy(t *testing.T) {
	var deny Policy
	for _, a := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"fe80::1", "fc00::1", "fd12::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "100.64.0.1", "255.255.255.255",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "198.18.0.1"} {
		if deny.Permits(netip.MustParseAddr(a)) {
			t.Errorf("%s is permitted", a)
		}
	}
	for _, a := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.128.0.1"} {
		if !deny.Permits(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused", a)
		}
	}
	nets, err := ParseNetworks(" 127.0.0.0/8, 10.9.8.7 ,fd00::/8")
	if err != nil || len(nets) != 3 {
		t.Fatalf("ParseNetworks = %v, %v", nets, err)
	}
	allow := Policy{Allowed: nets}
	for _, a := range []string{"127.0.0.1", "10.9.8.7", "fd00::5", "::ffff:127.0.0.2"} {
		if !allow.Permits(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused though allowed", a)
		}
	}
	if allow.Permits(netip.MustParseAddr("10.9.8.6")) {
		t.Error("10.9.8.6 is permitted; only 10.9.8.7 is allowed")
	}
	if _, err := ParseNetworks("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR is accepted")
	}
}

func TestCheckURL(t *testing.T) {
	ctx := t.Context()
	public := resolver{netip.MustParseAddr("93.184.215.14")}
	var p Policy
	if got, err := p.CheckURL(ctx, public, " https://hooks.example.org/in?x=1#frag "); err != nil || got != "https://hooks.example.org/in?x=1" {
		t.Fatalf("CheckURL = %q, %v", got, err)
	}
	for _, bad := range []string{"", "ftp://hooks.example.org/", "hooks.example.org/in", "https://", "https://user:pw@hooks.example.org/",
		"https://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data/", "https://" + strings.Repeat("a", MaxURLBytes)} {
		if _, err := p.CheckURL(ctx, public, bad); !video.IsInvalid(err) {
			t.Errorf("CheckURL(%q) = %v, want invalid", bad, err)
		}
	}
	// A name is judged by every address it has.
	mixed := resolver{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.1")}
	if _, err := p.CheckURL(ctx, mixed, "https://hooks.example.org/"); !video.IsInvalid(err) || !strings.Contains(err.Error(), "10.0.0.1") {
		t.Fatalf("a name with a private address: %v", err)
	}
	if _, err := p.CheckURL(ctx, resolver{}, "https://nowhere.example.org/"); !video.IsInvalid(err) {
		t.Fatalf("a name without addresses: %v", err)
	}
	allowed := Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	if _, err := allowed.CheckURL(ctx, public, "http://127.0.0.1:9/hook"); err != nil {
		t.Fatalf("an allowed loopback URL: %v", err)
	}
}
