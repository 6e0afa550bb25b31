package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/auth"
)

// The principal a call acts for travels in two metadata entries: the
// principal itself, and an HMAC of it under the install's internal key.
// Only the edge authenticates people; a service believes a principal only
// when the signature proves that a process holding the key (the edge)
// wrote it, so reaching a service's port is not enough to act as anyone.
const (
	principalHeader   = "cloudflix-principal"
	signatureHeader   = "cloudflix-principal-sig"
	principalLifetime = 5 * time.Minute
	// MinKeyBytes is the shortest internal key accepted.
	MinKeyBytes = 32
)

// wirePrincipal is the signed form of an auth.Principal.
type wirePrincipal struct {
	UserID    string       `json:"u"`
	Username  string       `json:"n"`
	Role      auth.Role    `json:"r"`
	Scopes    []auth.Scope `json:"s,omitempty"`
	Session   string       `json:"sid,omitempty"`
	ExpiresAt int64        `json:"exp"` // Unix seconds: a copied header is worth little for long
}

// Key signs and checks principals.
type Key []byte

func (k Key) sign(value string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(principalHeader + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// attach adds ctx's principal, signed, to the outgoing metadata of a call.
func (k Key) attach(ctx context.Context) (context.Context, error) {
	p := auth.FromContext(ctx)
	if p.Anonymous() {
		return ctx, nil
	}
	b, err := json.Marshal(wirePrincipal{UserID: p.UserID, Username: p.Username, Role: p.Role, Scopes: p.Scopes,
		Session: p.SessionID, ExpiresAt: time.Now().Add(principalLifetime).Unix()})
	if err != nil {
		return nil, err
	}
	value := base64.RawURLEncoding.EncodeToString(b)
	return metadata.AppendToOutgoingContext(ctx, principalHeader, value, signatureHeader, k.sign(value)), nil
}

// errBadPrincipal is a principal whose signature does not hold.
var errBadPrincipal = errors.New("the caller's principal is not signed with this install's internal key")

// read is the principal of an incoming call: anonymous when the call
// carries none, an error when it carries one that does not verify.
func (k Key) read(ctx context.Context) (auth.Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values, sigs := md.Get(principalHeader), md.Get(signatureHeader)
	if len(values) == 0 && len(sigs) == 0 {
		return auth.Principal{}, nil
	}
	if len(values) != 1 || len(sigs) != 1 || !hmac.Equal([]byte(k.sign(values[0])), []byte(sigs[0])) {
		return auth.Principal{}, errBadPrincipal
	}
	b, err := base64.RawURLEncoding.DecodeString(values[0])
	var w wirePrincipal
	if err == nil {
		err = json.Unmarshal(b, &w)
	}
	if err != nil || w.UserID == "" {
		return auth.Principal{}, fmt.Errorf("%w: malformed", errBadPrincipal)
	}
	if time.Now().Unix() > w.ExpiresAt {
		return auth.Principal{}, fmt.Errorf("%w: expired", errBadPrincipal)
	}
	return auth.Principal{UserID: w.UserID, Username: w.Username, Role: w.Role, Scopes: w.Scopes, SessionID: w.Session}, nil
}

// serverPrincipal puts the verified principal of each call in its context.
func (k Key) serverPrincipal(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	p, err := k.read(ctx)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	return handler(auth.NewContext(ctx, p), req)
}

// clientPrincipal signs the principal of each call's context into it.
func (k Key) clientPrincipal(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx, err := k.attach(ctx)
	if err != nil {
		return err
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// Derive is a key for another purpose made from k, so that one secret
// serves the install without one use's key opening another's door.
func (k Key) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("cloudflix derived key\x00" + purpose))
	return m.Sum(nil)
}
