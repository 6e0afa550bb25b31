package rpc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"

	"github.com/cloudflix/cloudflix/internal/auth"
)

// FuzzPrincipal signs any principal as the edge does and hands it to a
// service as a call's metadata. The service reads back the principal that
// was signed, and once any byte of the principal or of its signature is
// changed, it reads none: it refuses the call.
func FuzzPrincipal(f *testing.F) {
	key := Key("the install's internal key in fuzz tests")
	f.Fuzz(func(t *testing.T, userID, username, role, scopes, session string, sigHeader bool, at, cut int, insert string) {
		p := auth.Principal{UserID: userID, Username: username, Role: auth.Role(role), SessionID: session}
		if scopes != "" {
			for _, s := range strings.Split(scopes, ",") {
				p.Scopes = append(p.Scopes, auth.Scope(s))
			}
		}
		out, err := key.attach(auth.NewContext(context.Background(), p))
		if err != nil {
			t.Fatal(err)
		}
		md, _ := metadata.FromOutgoingContext(out)
		got, err := key.read(metadata.NewIncomingContext(context.Background(), md))
		switch {
		case err != nil:
			t.Fatalf("the signed principal %+v was refused: %v", p, err)
		case p.Anonymous() != got.Anonymous():
			t.Fatalf("signed %+v, read %+v", p, got)
		case !p.Anonymous() && valid(userID, username, role, scopes, session) && !samePrincipal(p, got):
			t.Fatalf("signed %+v, read %+v", p, got)
		}
		if p.Anonymous() {
			return
		}

		header := principalHeader
		if sigHeader {
			header = signatureHeader
		}
		v := md.Get(header)[0]
		at = int(uint(at) % uint(len(v)+1))
		cut = at + int(uint(cut)%uint(len(v)-at+1))
		changed := v[:at] + insert + v[cut:]
		if changed == v {
			return
		}
		md = md.Copy()
		md.Set(header, changed)
		if got, err := key.read(metadata.NewIncomingContext(context.Background(), md)); !errors.Is(err, errBadPrincipal) {
			t.Fatalf("%s changed from %q to %q: read %+v, %v; want it refused", header, v, changed, got, err)
		}
	})
}

func valid(s ...string) bool {
	return !slices.ContainsFunc(s, func(s string) bool { return !utf8.ValidString(s) })
}

func samePrincipal(a, b auth.Principal) bool {
	return a.UserID == b.UserID && a.Username == b.Username && a.Role == b.Role && a.SessionID == b.SessionID && slices.Equal(a.Scopes, b.Scopes)
}
