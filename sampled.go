package llmgate

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sampled returns a logger that writes one line a second per message: an
// outage of a store fails every request, and one line says so. Every
// handler logs store failures through it.
func sampled(l *zap.Logger) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 1, 0)
	}))
}
