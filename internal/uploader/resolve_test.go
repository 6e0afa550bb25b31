package uploader

import "testing"

func TestPartURLsResolveAgainstTheServer(t *testing.T) {
	c := &client{server: "http://localhost:8080"}
	cases := map[string]string{
		"/storage/parts/u1/3?expires=9&sig=ab":              "http://localhost:8080/storage/parts/u1/3?expires=9&sig=ab",
		"http://127.0.0.1:9000/bucket/key?partNumber=1&x=y": "http://127.0.0.1:9000/bucket/key?partNumber=1&x=y",
	}
	for in, want := range cases {
		got, err := c.resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
