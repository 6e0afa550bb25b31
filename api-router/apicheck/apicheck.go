// Package apicheck holds a live CloudFlix API to its OpenAPI document: given
// a request a test sent and the response it got, it says whether both are
// what the document promises. It is support for tests (the end-to-end suite
// checks every call it makes) and must never sit in the path of real
// traffic.
package apicheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// wildcardExtension marks a path item whose named parameter spans several
// segments ("/media/{key}" serves "/media/videos/x/hls/master.m3u8").
// OpenAPI cannot say that; the legacy router spells it "{key*}".
const wildcardExtension = "x-cloudflix-wildcard"

// The document's text bodies that the validator has no decoder for: caption
// files, which the API takes as they are on disk.
func init() {
	for _, ct := range []string{"text/vtt", "application/x-subrip"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// Checker validates request/response pairs against one OpenAPI document.
type Checker struct {
	router routers.Router
}

// New parses and validates doc (OpenAPI 3, JSON) and prepares a Checker.
func New(doc []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := d.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate OpenAPI document: %w", err)
	}
	expandWildcards(d)
	r, err := legacy.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("route OpenAPI document: %w", err)
	}
	return &Checker{router: r}, nil
}

func expandWildcards(d *openapi3.T) {
	for path, item := range d.Paths.Map() {
		name, _ := item.Extensions[wildcardExtension].(string)
		if name == "" {
			continue
		}
		d.Paths.Delete(path)
		d.Paths.Set(strings.Replace(path, "{"+name+"}", "{"+name+"*}", 1), item)
	}
}

// Check reports how req and the response to it (resp, whose body was read
// into body) differ from the document: an undocumented route or success
// status (errors may fall to the "default" response), a
// response body off its schema (unknown fields included, where the schema
// closes the object), a bad header.
//
// The request is checked too, body included when req.GetBody can replay it
// (http.NewRequest sets it for bytes, strings and bytes.Buffer readers)
// and the server did not reject it with a 4xx: a test that sends a bad
// request on purpose gets the documented error back, and that is what is
// checked.
func (c *Checker) Check(req *http.Request, resp *http.Response, body []byte) error {
	ctx := context.Background()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: not in the OpenAPI document: %w", req.Method, req.URL.Path, err)
	}
	// "default" in the document describes errors; a success status must be
	// listed by itself.
	if resp.StatusCode < 400 && route.Operation.Responses.Status(resp.StatusCode) == nil {
		return fmt.Errorf("%s %s: status %d is not documented", req.Method, req.URL.Path, resp.StatusCode)
	}
	rq := req.Clone(ctx)
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
	}
	switch {
	case req.GetBody != nil:
		if rq.Body, err = req.GetBody(); err != nil {
			return fmt.Errorf("%s %s: replay request body: %w", req.Method, req.URL.Path, err)
		}
	case req.Body == nil || req.Body == http.NoBody:
		rq.Body = http.NoBody
	default:
		opts.ExcludeRequestBody = true
	}
	in := &openapi3filter.RequestValidationInput{Request: rq, PathParams: params, Route: route, Options: opts}
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("%s %s: request: %w", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s: response %d: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return nil
}
