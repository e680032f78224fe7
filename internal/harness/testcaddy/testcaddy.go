// Package testcaddy runs a real Caddy, with llmgate's modules, inside a
// test process. Configs are Caddyfiles, adapted by Caddy's own adapter and
// loaded through the admin API's /load endpoint, which is what
// `caddy reload` does; so a second Load is a real config reload.
package testcaddy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile" // the Caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/llmgate/caddy-llmgate" // llmgate's modules and directives
	"github.com/llmgate/caddy-llmgate/internal/harness"
)

var (
	startOnce sync.Once
	adminAddr string
	startErr  error
)

// Global is the global options block every config gets: the admin API on
// a free loopback port, no config persisted, no automatic HTTPS, a short
// grace period so reloads in tests do not wait on open streams, and the
// default log at level ERROR.
func Global(extra string) string {
	return GlobalLog("level ERROR", extra)
}

// GlobalLog is Global with defaultLog as the body of the default log's
// global `log { … }` block, for tests that look at what Caddy's default
// log writes.
func GlobalLog(defaultLog, extra string) string {
	start()
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	auto_https off
	skip_install_trust
	grace_period 2s
	log {
		%s
	}
	%s
}
`, adminAddr, defaultLog, extra)
}

// Example returns an example Caddyfile ready for Load: Global's options
// in place of its own global block, with that block's options kept, and
// its default log's options (but for the level, which stays ERROR unless
// it sets one) in place of Global's. The block is the first one, at the
// start of a line, before any site; its `log {` and closing braces stand
// on lines of their own, as `caddy fmt` writes them.
func Example(caddyfile string) string {
	lines := strings.Split(caddyfile, "\n")
	open := 0
	for open < len(lines) && (lines[open] == "" || strings.HasPrefix(lines[open], "#")) {
		open++
	}
	if open == len(lines) || lines[open] != "{" {
		return Global("") + caddyfile
	}
	end := open + 1
	for end < len(lines) && lines[end] != "}" {
		end++
	}
	var extra, log []string
	inLog := false
	for _, l := range lines[open+1 : end] {
		switch t := strings.TrimSpace(l); {
		case t == "log {":
			inLog = true
		case inLog && l == "\t}":
			inLog = false
		case inLog:
			log = append(log, t)
		default:
			extra = append(extra, l)
		}
	}
	if !slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, "level ") }) {
		log = append(log, "level ERROR")
	}
	rest := append(slices.Clone(lines[:open]), lines[end+1:]...)
	return GlobalLog(strings.Join(log, "\n\t\t"), strings.Join(extra, "\n")) + strings.Join(rest, "\n")
}

// Load adapts a Caddyfile and makes it Caddy's running config, starting
// Caddy on first use. The Caddyfile must begin with Global(...).
func Load(t testing.TB, caddyfile string) {
	t.Helper()
	if err := LoadErr(caddyfile); err != nil {
		t.Fatalf("loading config: %v\n%s", err, caddyfile)
	}
}

// LoadErr is Load returning the adapter's or Caddy's error.
func LoadErr(caddyfile string) error {
	start()
	if startErr != nil {
		return startErr
	}
	cfg, err := Adapt(caddyfile)
	if err != nil {
		return err
	}
	return load(cfg)
}

// LoadJSON makes a JSON config (such as an adapted example) Caddy's running
// config, its admin settings replaced by those Global gives.
func LoadJSON(t testing.TB, cfg []byte) {
	t.Helper()
	if err := LoadJSONErr(cfg); err != nil {
		t.Fatalf("loading config: %v\n%s", err, cfg)
	}
}

// LoadJSONErr is LoadJSON returning the error: what the admin API says
// of a JSON config Caddy refuses.
func LoadJSONErr(cfg []byte) error {
	start()
	if startErr != nil {
		return startErr
	}
	var m map[string]any
	if err := json.Unmarshal(cfg, &m); err != nil {
		return err
	}
	m["admin"] = map[string]any{"listen": adminAddr, "config": map[string]any{"persist": false}}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return load(b)
}

// load posts a JSON config to the admin API's /load.
func load(cfg []byte) error {
	req, _ := http.NewRequest(http.MethodPost, "http://"+adminAddr+"/load", bytes.NewReader(cfg))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin /load: %s: %s", resp.Status, body)
	}
	// The servers of the config replaced close their keep-alive
	// connections, but not all at once: a request sent on one may fail
	// with EOF, or be answered by the old config. The harness's client
	// starts afresh, and so does the default client, which the admin API
	// is asked with (its server restarts with a new config).
	harness.NewConnections()
	http.DefaultClient.CloseIdleConnections()
	return nil
}

// Adapt turns a Caddyfile into Caddy's JSON config. Warnings fail it too,
// except the one about formatting (test Caddyfiles follow Go's indentation).
func Adapt(caddyfile string) ([]byte, error) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	cfg, warnings, err := adapter.Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		if !strings.Contains(w.Message, "not formatted") {
			return nil, fmt.Errorf("adapt warning: %s", w.String())
		}
	}
	return cfg, nil
}

// start boots Caddy with nothing but its admin API.
func start() {
	startOnce.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			startErr = err
			return
		}
		adminAddr = l.Addr().String()
		l.Close()
		cfg, _ := json.Marshal(map[string]any{
			"admin": map[string]any{"listen": adminAddr, "config": map[string]any{"persist": false}},
		})
		if startErr = caddy.Load(cfg, true); startErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			resp, err := http.Get("http://" + adminAddr + "/config/")
			if err == nil {
				resp.Body.Close()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		startErr = fmt.Errorf("caddy admin API did not come up on %s", adminAddr)
	})
}

// Site returns a fresh loopback site address, "http://127.0.0.1:PORT",
// usable both as a Caddyfile site address and as the URL to call.
func Site(t testing.TB) string {
	return fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t))
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds cmd/caddy (Caddy with llmgate, the xcaddy build) once per
// test process and returns its path, for tests that need a second Caddy
// instance in a process of its own.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llmgate-caddy-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "caddy")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/llmgate/caddy-llmgate/cmd/caddy").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/caddy: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Proc is a Caddy process a test started.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Kill ends the process at once, as a crash would, and waits for it to be
// gone.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// PeakRSS is the most memory the process has held resident so far, in
// bytes (VmHWM).
func (p *Proc) PeakRSS(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM: %v", err)
			}
			return n << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", p.cmd.Process.Pid)
	return 0
}

// Process runs caddyfile in a separate Caddy process (see Binary) until
// the test ends. The Caddyfile's global options must include `admin off`
// or an admin address of its own. It returns once site answers.
func Process(t testing.TB, caddyfile, site string) *Proc {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary(t), "run", "--config", file, "--adapter", "caddyfile")
	logFile, err := os.Create(filepath.Join(dir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("caddy exited:\n%s", logs())
		default:
		}
		if resp, err := http.Get(site); err == nil {
			resp.Body.Close()
			return &Proc{cmd: cmd, done: done}
		}
	}
	t.Fatalf("caddy did not answer on %s:\n%s", site, logs())
	return nil
}

// AdminURL is the base URL of the in-process Caddy's admin API, where
// /metrics and the admin modules answer.
func AdminURL() string {
	start()
	return "http://" + adminAddr
}

// MetricsPage returns what the in-process Caddy's /metrics serves,
// failing the test unless it serves it.
func MetricsPage(t testing.TB) []byte {
	t.Helper()
	resp, err := http.Get(AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d, %v", resp.StatusCode, err)
	}
	return b
}

// Metrics returns the llmgate_ samples of the in-process Caddy's /metrics
// by series (name and labels, such as
// `llmgate_ratelimit_queue_depth{zone="z"}`); a series that is absent
// reads 0. A series that appears twice fails the test.
func Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for line := range strings.Lines(string(MetricsPage(t))) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "llmgate_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		if _, dup := out[line[:i]]; dup {
			t.Fatalf("series %s appears twice", line[:i])
		}
		out[line[:i]] = v
	}
	return out
}
