package router

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The document is written by hand; these tests check that it is valid
// OpenAPI and hold it to the code: the routes and the JSON field names must
// be the same on both sides. api-router/apicheck checks live traffic
// against it.

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI: %v", err)
	}
}

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]openAPISchema `json:"schemas"`
	} `json:"components"`
}

type openAPISchema struct {
	Required             []string                   `json:"required"`
	Properties           map[string]json.RawMessage `json:"properties"`
	AdditionalProperties *bool                      `json:"additionalProperties"`
}

func loadDoc(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// docPath spells a ServeMux pattern as an OpenAPI path: "{key...}" is
// "{key}" (the document marks it with x-cloudflix-wildcard).
func docPath(pattern string) string {
	return strings.ReplaceAll(pattern, "...}", "}")
}

func TestEveryRouteIsDocumentedAndViceVersa(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	served := map[string]bool{}
	for _, rt := range routes {
		served[strings.ToLower(rt.method)+" "+docPath(rt.path)] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "options", "trace":
				documented[method+" "+path] = true
			case "head":
				// ServeMux serves HEAD wherever it serves GET.
				if !served["get "+path] {
					t.Errorf("document has head %s, but the router serves no GET there", path)
				}
			}
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("route %s is not in openapi.json", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.json has %s, but the router does not serve it", op)
		}
	}
	if len(served) != len(routes) {
		t.Errorf("duplicate routes in the table")
	}
}

// jsonKeys are the field names v marshals to.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

func TestResponseSchemasMatchTheJSON(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	v := (&api{}).videoToJSON(readyVideo())
	shapes := map[string]any{
		"Video":         v,
		"SearchResult":  searchResultJSON{videoJSON: v, Score: 1},
		"Rendition":     renditionJSON{},
		"UploadSession": sessionJSON{},
		"SignedPart":    signedPartJSON{},
		"StoredPart":    storedPartJSON{},
		"Error":         errorBody{},
		"errorDetail":   errorDetail{},
		"User":          userJSON{},
		"Quota":         quotaJSON{},
		"SessionInfo":   sessionInfoJSON{},
		"Token":         tokenJSON{},
		"Comment":       commentJSON{},
		"CommentList":   commentPageJSON{},
		"Playlist":      playlistJSON{},
		"PlaylistItem":  playlistItemJSON{},
	}
	// Fields a response leaves out when the caller may not see them.
	optional := map[string][]string{"User": {"email", "quota"}}
	for name, value := range shapes {
		s, ok := doc.Components.Schemas[name]
		if name == "errorDetail" {
			var inner openAPISchema
			if err := json.Unmarshal(doc.Components.Schemas["Error"].Properties["error"], &inner); err != nil {
				t.Fatal(err)
			}
			s, ok = inner, true
		}
		if !ok {
			t.Errorf("schema %s is missing", name)
			continue
		}
		keys := jsonKeys(t, value)
		props := slices.Sorted(maps.Keys(s.Properties))
		if extra := optional[name]; len(extra) > 0 {
			all := slices.Sorted(slices.Values(append(append([]string{}, keys...), extra...)))
			if !slices.Equal(all, props) {
				t.Errorf("schema %s has properties %v; the JSON has %v and may have %v", name, props, keys, extra)
			}
			if req := slices.Sorted(slices.Values(s.Required)); !slices.Equal(req, keys) {
				t.Errorf("schema %s requires %v, want %v", name, req, keys)
			}
			continue
		}
		if !slices.Equal(keys, props) {
			t.Errorf("schema %s has properties %v; the JSON has %v", name, props, keys)
		}
		// Responses always carry every field, and nothing else.
		if req := slices.Sorted(slices.Values(s.Required)); !slices.Equal(req, keys) {
			t.Errorf("schema %s requires %v, want every field %v", name, req, keys)
		}
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("schema %s does not say additionalProperties: false", name)
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	w := serve(t, edge(t, Options{}), "GET", "/api/openapi.json", "")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if !slices.Equal(w.Body.Bytes(), OpenAPI) {
		t.Error("served document differs from the embedded one")
	}
}
