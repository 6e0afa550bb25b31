package router

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// edgeError is a failure the edge itself finds (bad JSON, unknown route,
// …) before any service is called.
type edgeError struct {
	status int
	code   string
	msg    string
	// retryAfter is the seconds the client should wait before trying
	// again; set, it marks a refusal by design (load, rate), which is
	// counted rather than logged.
	retryAfter int
}

func (e *edgeError) Error() string { return e.msg }

func badRequest(msg string) error {
	return &edgeError{status: http.StatusBadRequest, code: "invalid_argument", msg: msg}
}

// errorBody is the JSON shape of every error the edge answers.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// httpCodes maps a gRPC status code to the HTTP status and the error code
// clients see. A 5xx carries a fixed message: the status message of a
// server-side failure can name hosts, files or queries.
var httpCodes = map[codes.Code]struct {
	status  int
	code    string
	generic string // message for 5xx; "" keeps the service's message
}{
	codes.InvalidArgument:    {http.StatusBadRequest, "invalid_argument", ""},
	codes.OutOfRange:         {http.StatusBadRequest, "out_of_range", ""},
	codes.NotFound:           {http.StatusNotFound, "not_found", ""},
	codes.AlreadyExists:      {http.StatusConflict, "already_exists", ""},
	codes.FailedPrecondition: {http.StatusConflict, "failed_precondition", ""},
	codes.Aborted:            {http.StatusConflict, "aborted", ""},
	codes.ResourceExhausted:  {http.StatusTooManyRequests, "resource_exhausted", ""},
	codes.Unauthenticated:    {http.StatusUnauthorized, "unauthenticated", ""},
	codes.PermissionDenied:   {http.StatusForbidden, "permission_denied", ""},
	codes.Canceled:           {499, "canceled", ""},
	codes.Unavailable:        {http.StatusServiceUnavailable, "unavailable", "the service is unavailable, try again later"},
	codes.DeadlineExceeded:   {http.StatusGatewayTimeout, "deadline_exceeded", "the service did not answer in time"},
	codes.Unimplemented:      {http.StatusNotImplemented, "unimplemented", "not implemented"},
}

const internalMessage = "internal error"

// httpError translates err into the HTTP status and JSON error body the
// client sees, and reports whether it is the server's fault.
func httpError(err error) (int, errorDetail, bool) {
	var ee *edgeError
	if errors.As(err, &ee) {
		return ee.status, errorDetail{Code: ee.code, Message: ee.msg}, ee.status >= 500 && ee.retryAfter == 0
	}
	st, ok := status.FromError(err)
	if !ok {
		// Not from a service: the request's own context ending is the one
		// failure here that is not ours.
		switch {
		case errors.Is(err, context.Canceled):
			st = status.New(codes.Canceled, "request canceled")
		case errors.Is(err, context.DeadlineExceeded):
			st = status.New(codes.DeadlineExceeded, err.Error())
		default:
			return http.StatusInternalServerError, errorDetail{Code: "internal", Message: internalMessage}, true
		}
	}
	m, known := httpCodes[st.Code()]
	if !known {
		return http.StatusInternalServerError, errorDetail{Code: "internal", Message: internalMessage}, true
	}
	msg := st.Message()
	if m.generic != "" {
		msg = m.generic
	}
	return m.status, errorDetail{Code: m.code, Message: msg}, m.status >= 500
}

// writeError answers err as JSON and logs it when it is the server's fault:
// the edge is where a failure is logged, once.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, detail, ours := httpError(err)
	if wait := retryAfter(err); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
	}
	if ours {
		a.log.ErrorContext(r.Context(), "request failed",
			"method", r.Method, "route", routeOf(r.Pattern), "status", code, "err", err)
	}
	writeJSON(w, code, errorBody{Error: detail})
}

// retryAfter is how many seconds the edge or a service said to wait
// before trying again (a RetryInfo detail of a service's status), rounded
// up; 0 when it said nothing.
func retryAfter(err error) int {
	var ee *edgeError
	if errors.As(err, &ee) {
		return ee.retryAfter
	}
	st, ok := status.FromError(err)
	if !ok {
		return 0
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds()))
		}
	}
	return 0
}
