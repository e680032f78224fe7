package llmgate

import (
	"errors"
	"time"

	"github.com/llmgate/caddy-llmgate/cache"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sampled returns a logger that writes one line a second per message: an
// outage of a store fails every request, and one line says so.
func sampled(l *zap.Logger) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 1, 0)
	}))
}

// storeFailures returns the OnError of a library's options: every
// handler logs its store's failures to its module's logger, sampled, one
// message per kind of failure, with the error and fields. The message
// says that store failed ("rate limit store failed"), or for the cache's
// what it was doing ("cache lookup failed").
func storeFailures(l *zap.Logger, store string, fields ...zap.Field) func(error) {
	l = sampled(l)
	return func(err error) {
		msg := store + " failed"
		var se *cache.StoreError
		if errors.As(err, &se) {
			msg, err = "cache "+se.Op+" failed", se.Err
		}
		l.Warn(msg, append(fields, zap.Error(err))...)
	}
}
