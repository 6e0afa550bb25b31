package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Policy says which addresses deliveries may go to: any public address,
// and the networks the operator allows (CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS).
// Everything else (loopback, link-local, private and unique-local,
// unspecified, multicast, shared CGNAT space and the other special ranges)
// is refused, so that an endpoint cannot reach into the cluster or the
// cloud's metadata service. It is checked when an endpoint is registered
// and again on the address actually dialled for each delivery, so a name
// that resolves to another address later (DNS rebinding) gains nothing.
type Policy struct {
	Allowed []netip.Prefix
}

// ErrRefusedAddress is an address the policy keeps deliveries away from.
var ErrRefusedAddress = errors.New("a private, loopback or otherwise special address, which the operator does not allow")

// special are the ranges not covered by netip's predicates that no webhook
// receiver on the Internet has.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// ParseNetworks reads the operator's allowed networks: CIDRs (or single
// addresses) separated by commas.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("allowed network %q: not a CIDR or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Permits reports whether deliveries may go to a.
func (p Policy) Permits(a netip.Addr) bool {
	a = a.Unmap()
	for _, allowed := range p.Allowed {
		if allowed.Contains(a) {
			return true
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, s := range special {
		if s.Contains(a) {
			return false
		}
	}
	return true
}

// control is the dialler's check of the address it is about to connect
// to, after every resolution.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w", address, err)
	}
	if !p.Permits(ap.Addr()) {
		return fmt.Errorf("webhook address %s: %w", ap.Addr(), ErrRefusedAddress)
	}
	return nil
}

// Resolver looks a host's addresses up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL checks an endpoint's URL as it is registered: http or https,
// a host and no credentials, at most MaxURLBytes, and a host whose every
// address the policy permits. It returns the URL as it is kept.
func (p Policy) CheckURL(ctx context.Context, r Resolver, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURLBytes {
		return "", video.Invalid("the endpoint URL is over %d bytes", MaxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return "", video.Invalid("the endpoint URL %q is not an absolute http or https URL", raw)
	}
	if u.User != nil {
		return "", video.Invalid("the endpoint URL carries credentials; use the signature to trust deliveries")
	}
	u.Fragment = ""
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return "", video.Invalid("the endpoint's host %s cannot be resolved", host)
		}
	}
	for _, a := range addrs {
		if !p.Permits(a) {
			return "", video.Invalid("the endpoint's host %s is at %s, %v (CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS)", host, a, ErrRefusedAddress)
		}
	}
	return u.String(), nil
}

// Dialer is a dialler that connects only where the policy permits.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Control: p.control}
}
