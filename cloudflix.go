// Package cloudflix holds what belongs to the whole project rather than one
// service: the canonical PostgreSQL schema and the build's version.
package cloudflix

import _ "embed"

// Schema is videos_schema.sql, the canonical PostgreSQL schema. Applying it
// is idempotent.
//
//go:embed videos_schema.sql
var Schema string

// Version is the build's version, set with -ldflags "-X github.com/cloudflix/cloudflix.Version=…".
var Version = "dev"
