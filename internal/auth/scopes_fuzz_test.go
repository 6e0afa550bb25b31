package auth

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseScopes reads any comma-separated list as the scopes a client
// asks a token to have. What is accepted is a non-empty list of known
// scopes, each once, in the order of Scopes, and reads back as itself.
func FuzzParseScopes(f *testing.F) {
	f.Fuzz(func(t *testing.T, list string) {
		scopes, err := ParseScopes(strings.Split(list, ","))
		if err != nil {
			return
		}
		if len(scopes) == 0 || !slices.IsSortedFunc(scopes, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) }) {
			t.Fatalf("%q read as %q", list, scopes)
		}
		names := make([]string, len(scopes))
		for i, s := range scopes {
			if !slices.Contains(Scopes, s) || i > 0 && s == scopes[i-1] {
				t.Fatalf("%q read as %q", list, scopes)
			}
			names[i] = string(s)
		}
		if again, err := ParseScopes(names); err != nil || !slices.Equal(again, scopes) {
			t.Fatalf("%q read as %q, which reads as %q, %v", list, scopes, again, err)
		}
	})
}
