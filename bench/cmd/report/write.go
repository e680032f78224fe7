package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// run is what run.sh tells the report about the run: its knobs and the
// tools' versions.
type run struct {
	Dir                               string // the run's temporary directory
	Rounds                            int
	MissRounds                        int    // rounds of the miss path
	MissFilled                        string // how llm_cache's stores were filled before them; "" when not
	Duration                          string // wrk -d
	Threads                           int
	Conns                             int
	LimitRate                         int // the limiters' requests per second
	LimitSecs                         int
	StreamN                           int
	StreamChunks                      int
	StreamDelay                       string
	GoBenchtime                       string
	Started                           time.Time
	Rev                               string // the llmgate commit
	Redacted                          string // the x-api-key header as format llm_redact logged it
	Caddy, Nginx, Wrk, Hey, Redis, Go string
}

// target is one line of the report's Targets table.
type target struct {
	What     string
	Measured string
	Met      bool
}

// atLeast and atMost are the comparisons of the targets; NaN, a ratio
// without a reference, meets neither.
func atLeast(v, limit float64) bool { return v >= limit }
func atMost(v, limit float64) bool  { return v <= limit }

// config is one server's configuration file, shown in the report.
type config struct {
	Path, Text string
}

// report is what results.md.tmpl renders.
type report struct {
	run
	Generated              time.Time
	Elapsed                time.Duration
	Machine                machine
	Targets                []target
	Hit, Miss              wrkTable
	Limits                 []limitRow
	Streams                []streamRow
	RedisRSSMB             float64
	RedisLimiter, RedisHit wrkTable
	AccessLog              wrkTable
	Bench                  []benchResult
	ChatBody               string
	StreamBody             string
	// MissProfile is go tool pprof's top of the miss path with both
	// handlers.
	MissProfile string
	Commands    string
	Configs     []config
}

//go:embed results.md.tmpl
var resultsTemplate string

var tmpl = template.Must(template.New("results").Funcs(template.FuncMap{
	"verdict": func(met bool) string {
		if met {
			return "met"
		}
		return "**not met**"
	},
}).Parse(resultsTemplate))

// The rows of the report's tables.
var (
	hitRows = []contender{
		{"llmgate llm_cache hit", "hit"}, {"Caddy respond (same bytes)", "respond"},
		{"nginx proxy_cache (POST, body in key)", "proxy_cache"}}
	missRows = []contender{
		{"reverse_proxy (bare)", "bare"}, {"+ llm_cache", "cache"},
		{"+ llm_ratelimit", "ratelimit"}, {"+ llm_ratelimit + llm_cache", "both"}}
	limitRows = []contender{
		{"llmgate llm_ratelimit token_bucket", "limit"}, {"nginx limit_req nodelay", "limit_req"},
		{"llmgate llm_ratelimit token_bucket", "limit10"}, {"nginx limit_req nodelay", "limit_req10"}}
	// streamRows' third field is the server's name, whose RSS the row shows.
	streamRows = []struct{ label, name, server string }{
		{"reverse_proxy (bare)", "bare", "s_bare"}, {"llm_cache miss", "cache-miss", "s_cache"},
		{"llm_cache hit", "cache-hit", "s_cache"}, {"llm_ratelimit tokens 100000000/m", "ratelimit-tokens", "s_tokens"}}
	redisLimiterRows = []contender{{"llm_ratelimit, memory", "rl_memory"}, {"llm_ratelimit, storage redis", "rl_redis"}}
	redisHitRows     = []contender{{"llm_cache hit, memory", "hit_memory"}, {"llm_cache hit, storage redis", "hit_redis"}, {"llm_cache hit, storage redis + local 64MiB", "hit_local"}}
	accessLogRows    = []contender{{"format json", "log_json"}, {"format llm_redact (wrapping json)", "log_redact"}}
)

// newReport works out the tables and the targets from a run's results.
func newReport(run run, r *results) (*report, error) {
	rep := &report{run: run, Bench: r.bench}
	var err error
	tables := []struct {
		dst           *wrkTable
		scenario, ref string
		rows          []contender
	}{
		{&rep.Hit, "hit", "respond", hitRows},
		{&rep.Miss, "miss", "bare", missRows},
		{&rep.RedisLimiter, "redis_limiter", "rl_memory", redisLimiterRows},
		{&rep.RedisHit, "redis_hit", "hit_memory", redisHitRows},
		{&rep.AccessLog, "access_log", "log_json", accessLogRows},
	}
	for _, t := range tables {
		if *t.dst, err = r.wrkTable(t.scenario, t.ref, t.rows...); err != nil {
			return nil, err
		}
	}
	limits := map[string]limitRow{}
	for _, c := range limitRows {
		row, err := r.limitRow(c, float64(run.LimitRate))
		if err != nil {
			return nil, err
		}
		rep.Limits = append(rep.Limits, row)
		limits[c.name] = row
	}
	for _, s := range streamRows {
		st, err := r.stream(s.name)
		if err != nil {
			return nil, err
		}
		delta, err := r.ttfbDelta(s.name, "bare")
		if err != nil {
			return nil, err
		}
		mb, err := r.rssMB("stream", s.server)
		if err != nil {
			return nil, err
		}
		rep.Streams = append(rep.Streams, streamRow{Label: s.label, stream: st, DeltaMS: delta, RSSMB: mb})
	}
	if rep.RedisRSSMB, err = r.rssMB("redis", "redis"); err != nil {
		return nil, err
	}

	rpsRatio := func(scenario, name, ref string) float64 {
		// Both exist: the tables above read them.
		a, _ := r.rps(scenario, name)
		b, _ := r.rps(scenario, ref)
		return ratio(a, b)
	}
	ratioTarget := func(what string, v, limit float64) target {
		return target{What: what, Measured: fmt.Sprintf("%.3f×", v), Met: atLeast(v, limit)}
	}
	p99Target := func(what, name, ref string, limit float64) target {
		v := ratio(r.p99MS("miss", name), r.p99MS("miss", ref))
		return target{What: what, Measured: fmt.Sprintf("%.3f×", v), Met: atMost(v, limit)}
	}
	ttfbTarget := func(what, name string) target {
		d, _ := r.ttfbDelta(name, "bare")
		return target{What: what, Measured: fmt.Sprintf("%+.3f ms", d), Met: atMost(d, 1)}
	}
	limitTarget := func(depth int, name, nginx string) target {
		e := limits[name].ErrorPct
		return target{
			What:     fmt.Sprintf("limiter count error ≤ 1%% over %d s (depth %d; nginx: %.2f%%)", run.LimitSecs, depth, limits[nginx].ErrorPct),
			Measured: fmt.Sprintf("%.2f%%", e),
			Met:      atMost(math.Abs(e), 1),
		}
	}
	rep.Targets = []target{
		ratioTarget("cache hit ≥ 0.95× Caddy `respond`", rpsRatio("hit", "hit", "respond"), 0.95),
		ratioTarget("miss with `llm_ratelimit` + `llm_cache` ≥ 0.95× bare `reverse_proxy`", rpsRatio("miss", "both", "bare"), 0.95),
		ratioTarget("miss with `llm_ratelimit` alone ≥ 0.97× bare", rpsRatio("miss", "ratelimit", "bare"), 0.97),
		ratioTarget("miss with `llm_cache` alone ≥ 0.97× bare", rpsRatio("miss", "cache", "bare"), 0.97),
		p99Target("miss p99 with both ≤ 1.10× bare", "both", "bare", 1.10),
		ratioTarget("`llm_ratelimit` with `storage redis` ≥ 0.85× memory", rpsRatio("redis_limiter", "rl_redis", "rl_memory"), 0.85),
		ratioTarget("cache hit with `storage redis` + `local` ≥ 0.90× memory", rpsRatio("redis_hit", "hit_local", "hit_memory"), 0.90),
		ratioTarget("access log with `format llm_redact` ≥ 0.97× `format json`", rpsRatio("access_log", "log_redact", "log_json"), 0.97),
		ttfbTarget("streaming TTFB through `llm_cache` (miss) within 1 ms of bare", "cache-miss"),
		ttfbTarget("streaming TTFB through `llm_ratelimit` (tokens) within 1 ms of bare", "ratelimit-tokens"),
		limitTarget(1, "limit", "limit_req"),
		limitTarget(10, "limit10", "limit_req10"),
	}
	return rep, nil
}

// readRunFiles adds to rep what the run left in its directory: the request
// bodies, the commands it ran and the servers' configurations.
func (rep *report) readRunFiles() error {
	for _, f := range []struct {
		dst  *string
		name string
	}{{&rep.ChatBody, "chat.json"}, {&rep.StreamBody, "stream.json"}, {&rep.Commands, "commands.txt"}, {&rep.MissProfile, "profile.txt"}} {
		b, err := os.ReadFile(filepath.Join(rep.Dir, f.name))
		if err != nil {
			return err
		}
		*f.dst = string(b)
	}
	var paths []string
	for _, glob := range []string{"caddy/*/Caddyfile", "nginx/*/nginx.conf"} {
		m, err := filepath.Glob(filepath.Join(rep.Dir, glob))
		if err != nil {
			return err
		}
		paths = append(paths, m...)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(rep.Dir, p)
		rep.Configs = append(rep.Configs, config{Path: rel, Text: shortenInlineBody(string(b))})
	}
	return nil
}

// shortenInlineBody cuts the answer a `respond <<BODY` heredoc holds (the
// captured llm_cache hit, one long line of JSON) to its first 80 characters.
func shortenInlineBody(caddyfile string) string {
	var out []string
	lines := strings.Split(caddyfile, "\n")
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if !strings.HasSuffix(lines[i], "respond <<BODY") || i+1 >= len(lines) {
			continue
		}
		i++
		body := lines[i]
		if utf8.RuneCountInString(body) > 80 {
			body = string([]rune(body)[:80])
		}
		out = append(out, body+"…")
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "BODY") {
			i++
		}
	}
	return strings.Join(out, "\n")
}

// write renders the report to path, through a temporary file so that a
// failed run leaves the last good report in place, and returns the text.
func (rep *report) write(path string) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, rep); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".tmp", buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return buf.Bytes(), os.Rename(path+".tmp", path)
}

// summary is the part of a report from its Targets to its Commands, which
// run.sh prints when it is done.
func summary(text []byte) []byte {
	_, after, ok := bytes.Cut(text, []byte("\n## Targets\n"))
	if !ok {
		return nil
	}
	before, _, _ := bytes.Cut(after, []byte("\n## Commands\n"))
	return append([]byte("## Targets\n"), before...)
}
