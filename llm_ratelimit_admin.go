package llmgate

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/llmgate/caddy-llmgate/pricing"
)

// RateLimitAdmin is the admin API of llm_ratelimit, on Caddy's admin
// endpoint:
//
//	GET  /llm/ratelimit/usage?zone=<name>&key=<value>
//	POST /llm/ratelimit/usage  {"zone":"<name>","key":"<value>"}
//
// answers what the key has left in each rate of the zone and when each is
// whole again, with nothing charged. The key is the value the zone's key
// gives a request ({http.llm.team}'s team, the placeholder's value, or
// "static"), hashed as the stores hash it; a key that is a secret (an
// API key) goes in a POST, since Caddy logs the admin API's request URIs.
// It reads the zone of every loaded config that has one by that name.
type RateLimitAdmin struct{}

// CaddyModule returns the Caddy module information.
func (RateLimitAdmin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.llm_ratelimit",
		New: func() caddy.Module { return new(RateLimitAdmin) },
	}
}

// Routes implements caddy.AdminRouter.
func (a RateLimitAdmin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/llm/ratelimit/usage", Handler: caddy.AdminHandlerFunc(a.usage)}}
}

// meterLeft is one rate of a zone as the admin API tells it.
type meterLeft struct {
	// Kind is requests, tokens, input_tokens, output_tokens or cost.
	Kind string `json:"kind"`
	// Limit and Remaining count the kind's units; USD for cost.
	Limit     json.Number `json:"limit"`
	Remaining json.Number `json:"remaining"`
	// Window is the rate's period, a Go duration.
	Window string `json:"window"`
	// Reset is how long until the rate is whole again, and ResetsAt when.
	Reset    string    `json:"reset"`
	ResetsAt time.Time `json:"resets_at"`
}

func (RateLimitAdmin) usage(w http.ResponseWriter, r *http.Request) error {
	var zone, key string
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		zone, key = q.Get("zone"), q.Get("key")
	case http.MethodPost:
		// The key in the body, where no log line shows it: Caddy logs the
		// admin API's request URIs.
		var in struct{ Zone, Key string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("want {\"zone\":…,\"key\":…}: %v", err)}
		}
		zone, key = in.Zone, in.Key
	default:
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	if zone == "" || key == "" {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("want ?zone=<name>&key=<value>, or a POST of {\"zone\":…,\"key\":…}")}
	}
	for _, l := range liveLimiters.list() {
		sts, ok, err := l.Peek(r.Context(), zone, key)
		if !ok {
			continue
		}
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: err}
		}
		now := time.Now()
		meters := make([]meterLeft, 0, len(sts))
		for _, st := range sts {
			meters = append(meters, meterLeft{
				Kind: string(st.Kind), Limit: amount(st.Limit, st.Kind), Remaining: amount(st.Remaining, st.Kind),
				Window: st.Window.String(), Reset: st.Reset.String(), ResetsAt: now.Add(st.Reset).UTC().Truncate(time.Second),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]any{"zone": zone, "meters": meters})
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no zone %q in the loaded config", zone)}
}

// amount writes a count of kind as a JSON number: USD for cost.
func amount(n int64, kind limiter.Kind) json.Number {
	if kind == limiter.KindCost {
		return json.Number(pricing.Micros(n).AppendUSD(nil))
	}
	return json.Number(strconv.FormatInt(n, 10))
}

// Interface guards
var _ caddy.AdminRouter = (*RateLimitAdmin)(nil)
