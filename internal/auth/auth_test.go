package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry OWASP's argon2id parameters", h)
	}
	if ok, err := CheckPassword(h, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("the right password: %v, %v", ok, err)
	}
	if ok, err := CheckPassword(h, "correct horse battery stapler"); ok || err != nil {
		t.Fatalf("a wrong password: %v, %v", ok, err)
	}
	again, _ := HashPassword("correct horse battery staple")
	if again == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=0,t=2,p=1$AAAA$AAAA", h[:len(h)-50] + "!!"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword(%q) read a hash that is not argon2id", bad)
		}
	}
}

func TestSecrets(t *testing.T) {
	s, h, err := NewSecret(TokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "cft_") || len(s) != len("cft_")+43 || HashSecret(s) != h || strings.Contains(h, s) {
		t.Fatalf("secret %q, hash %q", s, h)
	}
	if s2, _, _ := NewSecret(TokenPrefix); s2 == s {
		t.Fatal("two secrets are equal")
	}
}

func TestScopes(t *testing.T) {
	got, err := ParseScopes([]string{"upload", " READ ", "upload"})
	if err != nil || len(got) != 2 || got[0] != ScopeRead || got[1] != ScopeUpload {
		t.Fatalf("ParseScopes = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {}, {"write"}} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q) accepted", bad)
		}
	}
}

func TestPrincipalRights(t *testing.T) {
	session := Principal{UserID: "u", Role: RoleAdmin}
	readOnly := Principal{UserID: "u", Role: RoleAdmin, Scopes: []Scope{ScopeRead}}
	mod := Principal{UserID: "m", Role: RoleModerator}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"anonymous is anonymous", Principal{}.Anonymous(), true},
		{"anonymous allows nothing", Principal{}.Allows(ScopeRead), false},
		{"a session allows every scope", session.Allows(ScopeUpload), true},
		{"a token allows its scopes", readOnly.Allows(ScopeRead), true},
		{"a token allows no other", readOnly.Allows(ScopeUpload), false},
		{"an admin session administers", session.Administers(), true},
		{"an admin's read token does not administer", readOnly.Administers(), false},
		{"an admin's read token does not moderate", readOnly.Moderates(), false},
		{"a moderator moderates", mod.Moderates(), true},
		{"a moderator does not administer", mod.Administers(), false},
		{"Is matches the user and scope", session.Is("u", ScopeUpload), true},
		{"Is needs the scope", readOnly.Is("u", ScopeUpload), false},
		{"Is needs the user", session.Is("v", ScopeRead), false},
		{"nobody is the empty owner", session.Is("", ScopeRead), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}
