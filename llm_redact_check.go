package llmgate

import (
	"context"
	"slices"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/llmgate/caddy-llmgate/redact"
	"go.uber.org/zap"
)

// checkedApps holds the http apps whose loggers were checked, so that a
// config with several llm_ratelimit and llm_cache handlers warns once.
var checkedApps sync.Map // *caddyhttp.App → struct{}

// warnUnredactedLogs warns, once per config load, about each logger that
// writes requests with their headers and reaches a log whose encoder is
// not llm_redact. Caddy's error logger is the one people miss: a site's
// `log` block takes only the access log, so a request that fails (an
// upstream that is down) is written whole, X-Api-Key and all, to the
// default log at ERROR.
func warnUnredactedLogs(ctx caddy.Context) {
	appIface, err := ctx.AppIfConfigured("http")
	if err != nil {
		return
	}
	app, ok := appIface.(*caddyhttp.App)
	if !ok {
		return
	}
	if _, seen := checkedApps.LoadOrStore(app, struct{}{}); seen {
		return
	}
	// Forget the app with its config (ctx.OnCancel would register on a
	// copy of the context, never to run).
	context.AfterFunc(ctx, func() { checkedApps.Delete(app) })
	for _, name := range requestLoggers(app) {
		// The deprecated Logger(module) form is the one way to get the
		// cores Caddy gives a logger of this name.
		if _, plain := redact.CountEncoders(ctx.Logger(loggerName(name)).Core()); plain > 0 {
			ctx.Logger().Warn("llm_ratelimit/llm_cache run beside a logger that does not redact API keys; "+
				"wrap the encoder of every log it reaches with format llm_redact "+
				"(the default log: global option log { format llm_redact })",
				zap.String("request_logger", name), zap.Int("unredacted_logs", plain))
		}
	}
}

// requestLoggers returns the names of the loggers that write requests with
// their headers for app's servers: the access, error and trace loggers
// under each logger name a server uses, and reverse_proxy's, whose debug
// lines carry the headers it sends upstream.
func requestLoggers(app *caddyhttp.App) []string {
	names := []string{"http.log.error", "http.handlers.reverse_proxy"}
	for _, srv := range app.Servers {
		logs := srv.Logs
		if logs == nil {
			continue
		}
		kinds := []string{"http.log.access", "http.log.error"}
		if logs.Trace {
			kinds = append(kinds, "http.log.trace")
		}
		used := []string{logs.DefaultLoggerName}
		for _, ln := range logs.LoggerNames {
			used = append(used, ln...)
		}
		for _, kind := range kinds {
			for _, ln := range used {
				if ln == "" {
					names = append(names, kind)
				} else {
					names = append(names, kind+"."+ln)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// loggerName stands for a logger name where Caddy asks for a module.
type loggerName string

// CaddyModule returns the logger name as a module ID.
func (n loggerName) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: caddy.ModuleID(n)}
}
