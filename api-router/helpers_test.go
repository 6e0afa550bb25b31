package router

import "log/slog"

// discardLogger keeps the expected 5xx of error-mapping tests out of the
// test output.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
