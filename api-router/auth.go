package router

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// The edge authenticates and guards the doors; it never decides what a
// principal may do. A request's credential (the session cookie, or an API
// token as a bearer token) becomes a principal through the account
// service, and the services decide from that principal.

// sessionCookie holds a browser's session secret.
const sessionCookie = "cloudflix_session"

// credential is the secret a request carries, and whether it came in the
// cookie (a browser, which other sites can make send it) or as a bearer
// token (a program, which sends it only on purpose).
func credential(r *http.Request) (secret string, fromCookie bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		// Every token CloudFlix hands out is ASCII; anything else is not
		// sent on to the account service.
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" || !utf8.ValidString(token) {
			return "", false, &edgeError{status: http.StatusUnauthorized, code: "unauthenticated",
				msg: `the Authorization header must be "Bearer <token>"`}
		}
		return strings.TrimSpace(token), false, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return c.Value, true, nil
	}
	return "", false, nil
}

// authenticate puts the request's principal in its context: anonymous
// without a credential. A bearer token that is not valid is refused; a
// session cookie that is not valid (signed out elsewhere, expired) is
// dropped, so that the browser goes on as a visitor instead of being
// locked out of public pages.
func (a *api) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool, error) {
	secret, fromCookie, err := credential(r)
	if err != nil || secret == "" {
		return r, false, err
	}
	resp, err := a.clients.Account.Authenticate(r.Context(), &pb.AuthenticateRequest{Secret: secret})
	if status.Code(err) == codes.Unauthenticated && fromCookie {
		a.clearSession(w)
		return r, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return r.WithContext(auth.NewContext(r.Context(), principalOf(resp.GetPrincipal()))), fromCookie, nil
}

func principalOf(p *pb.Principal) auth.Principal {
	out := auth.Principal{UserID: p.GetUserId(), Username: p.GetUsername(), Role: auth.Role(p.GetRole()), SessionID: p.GetSessionId()}
	for _, s := range p.GetScopes() {
		out.Scopes = append(out.Scopes, auth.Scope(s))
	}
	return out
}

// guard refuses what another site could make a browser do here, before
// anything is done:
//   - with a public URL configured, a Host other than its host (DNS
//     rebinding points a foreign name at this server);
//   - an unsafe method sent cross-site: Sec-Fetch-Site says so where
//     browsers send it, else an Origin that is not this site's; a cookie
//     request that carries neither is refused too, since only a browser
//     sends the cookie and every browser sends one of them;
//   - a body that is not JSON where JSON is read: a cross-site form can
//     post text/plain without asking, but not application/json. A PUT,
//     which no form can send and a cross-site script may send only after a
//     preflight this edge never grants, may carry a file as it is on disk
//     (a video's captions).
func (a *api) guard(r *http.Request, fromCookie bool) error {
	if a.host != "" && !strings.EqualFold(hostOnly(r.Host), a.host) {
		return &edgeError{status: http.StatusMisdirectedRequest, code: "misdirected_request",
			msg: "this server answers for " + a.host + ", not " + r.Host}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return nil
	}
	site, origin := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")
	switch {
	case site != "" && site != "same-origin" && site != "none":
		return forbiddenCrossSite()
	case site == "" && origin != "" && !a.sameOrigin(r, origin):
		return forbiddenCrossSite()
	case site == "" && origin == "" && fromCookie:
		return forbiddenCrossSite()
	}
	if (r.ContentLength != 0 || r.Header.Get("Transfer-Encoding") != "") && r.Method != http.MethodPut {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return &edgeError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				msg: "request bodies must be JSON, sent with Content-Type: application/json"}
		}
	}
	return nil
}

func forbiddenCrossSite() error {
	return &edgeError{status: http.StatusForbidden, code: "permission_denied",
		msg: "cross-site requests are not allowed"}
}

// sameOrigin reports whether origin is this site: the public URL's origin
// when one is configured, else the origin the request was addressed to.
func (a *api) sameOrigin(r *http.Request, origin string) bool {
	if a.origin != "" {
		return strings.EqualFold(origin, a.origin)
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// setSession gives the browser its session cookie: HttpOnly so that page
// scripts never see it, SameSite=Lax so that other sites' requests carry it
// only on top-level navigation, Secure when the site is served over HTTPS.
func (a *api) setSession(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure,
	})
}

func (a *api) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure})
}

// clientOf is where a request comes from, for the account service's
// records and sign-in limits.
func (a *api) clientOf(r *http.Request) *pb.Client {
	return &pb.Client{Ip: a.proxies.clientIP(r), UserAgent: truncate(r.UserAgent(), 256)}
}

// trustedProxies are the networks whose X-Forwarded-For the edge believes:
// the load balancers and ingress in front of it. Anyone else could write
// any address there.
type trustedProxies []*net.IPNet

func parseProxies(cidrs []string) (trustedProxies, error) {
	var out trustedProxies
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			if ip := net.ParseIP(c); ip != nil && ip.To4() != nil {
				c += "/32"
			} else {
				c += "/128"
			}
		}
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an address or a CIDR network", c)
		}
		out = append(out, n)
	}
	return out, nil
}

func (t trustedProxies) trusts(ip net.IP) bool {
	for _, n := range t {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the address of the client: the connection's peer, or, when
// that is a trusted proxy, the last address in X-Forwarded-For that is not
// one of ours (addresses further left were written by the client itself).
func (t trustedProxies) clientIP(r *http.Request) string {
	peer := hostOnly(r.RemoteAddr)
	if !t.trusts(net.ParseIP(peer)) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		ip := net.ParseIP(hop)
		if ip == nil {
			break
		}
		if !t.trusts(ip) {
			return ip.String()
		}
	}
	return peer
}

// truncate cuts s to at most n bytes of UTF-8, its invalid bytes replaced:
// it goes into a protobuf string.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
