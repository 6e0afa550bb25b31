// Package cache holds the vocabulary of CloudFlix's cache port. Adapters live
// in sub-packages (rediscache) and pass the contract suite in cachetest. A
// cache is never the source of truth: losing it loses nothing but speed.
package cache

import "errors"

// ErrMiss: the key holds no value.
var ErrMiss = errors.New("cache miss")
