// Package testredis runs a real redis-server for tests: on a free loopback
// port and a unix socket in a temporary directory, with no persistence, so
// tests exercise the same server they will meet in production and can stop,
// freeze and restart it to test outages.
package testredis

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// lookPath finds a program of Debian's redis-server package (redis-server,
// redis-cli) on the PATH. It fails the test when the program is missing:
// a test that needs Redis must not pass quietly without it.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testredis: %s is not on the PATH; the tests start their own Redis servers and need it "+
			"(Debian/Ubuntu: apt-get install redis-server redis-tools; macOS: brew install redis): %v", name, err)
	}
	return path
}

// HangGuard is far above any timeout of the gateway's Redis clients: a
// command that takes longer during an outage is hanging, not slow.
const HangGuard = 3 * time.Second

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 10 * time.Second

// startAttempts bounds the starts of a new server on new ports: a free
// port may be taken by another process (the tests of other packages start
// servers at the same time) before the server binds it, and the server
// then exits.
const startAttempts = 3

// freePort is harness.FreePort, which a test replaces to hand out a port
// that is taken.
var freePort = harness.FreePort

// errExited is a server's exit before it answered.
var errExited = errors.New("exited")

// Config sets up a server.
type Config struct {
	// Password, when set, is required of every client (requirepass).
	Password string
	// TLS makes the server speak only TLS, with a self-signed certificate
	// (so URL is rediss:// and clients must skip verification or trust
	// CertFile).
	TLS bool
	// Args are more redis-server options, such as "--replicaof", host,
	// port.
	Args []string
	// sentinelConf, when set, is the file of a sentinel's configuration:
	// the server runs as a sentinel (see StartSentinel).
	sentinelConf string
	// clusterBus gives the server a free port of its own for the cluster
	// bus (see StartCluster), which would otherwise be the client port +
	// 10000, maybe taken.
	clusterBus bool
}

// Server is one running redis-server, stopped when the test ends.
type Server struct {
	t      testing.TB
	cfg    Config
	binary string
	dir    string
	port   int
	// busPort is the cluster bus port, with Config.clusterBus.
	busPort int
	// certFile and keyFile are the server's certificate, with TLS.
	certFile, keyFile string
	mu                sync.Mutex
	cmd               *exec.Cmd
	exited            chan struct{} // closed once cmd has exited
	frozen            bool
}

// Start runs a plain redis-server for the test, with no password.
func Start(t testing.TB) *Server { return StartWith(t, Config{}) }

// StartWith runs a redis-server for the test as cfg says. It fails the test
// when redis-server is not installed: a test that needs Redis must not pass
// quietly without it.
func StartWith(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{t: t, cfg: cfg, binary: lookPath(t, "redis-server"), dir: t.TempDir()}
	if cfg.TLS {
		s.certFile, s.keyFile = writeCert(t, s.dir)
	}
	t.Cleanup(s.Stop)
	var err error
	for range startAttempts {
		s.port = freePort(t)
		if cfg.clusterBus {
			s.busPort = freePort(t)
		}
		if err = s.start(); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	return s
}

// Addr is the server's host:port on the loopback interface.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Socket is the path of the server's unix socket.
func (s *Server) Socket() string { return filepath.Join(s.dir, "redis.sock") }

// CertFile is the path of the server's certificate (PEM), with TLS.
func (s *Server) CertFile() string { return s.certFile }

// URL is a redis:// (or with TLS rediss://) URL of database 0 on the
// server, with the password if one is set.
func (s *Server) URL() string {
	scheme := "redis://"
	if s.cfg.TLS {
		scheme = "rediss://"
	}
	if s.cfg.Password != "" {
		return scheme + ":" + s.cfg.Password + "@" + s.Addr() + "/0"
	}
	return scheme + s.Addr() + "/0"
}

// Stop ends the server and waits for it to exit. Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// SIGKILL ends a frozen server too, and is a crash: nothing is saved.
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.frozen = nil, false
}

// Restart stops the server and starts an empty one on the same port and
// socket, as after a crash of a server without persistence.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("testredis: %v", err)
	}
}

// Freeze suspends the server (SIGSTOP): it keeps its connections open but
// answers nothing, the outage that only timeouts can detect.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP, true) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT, false) }

// signal sends sig to the server, which is frozen after it or not.
func (s *Server) signal(sig syscall.Signal, frozen bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("testredis: signal %v to a stopped server", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("testredis: signal %v: %v", sig, err)
	}
	s.frozen = frozen
}

// start runs redis-server and waits until it answers PING on its unix
// socket: a path of its own, where no other server can answer for it (a
// server that did not get its TCP port exits, and another process may
// hold that port). It returns an error wrapping errExited when the server
// exited before it answered.
func (s *Server) start() error {
	port := strconv.Itoa(s.port)
	var args []string
	if s.cfg.sentinelConf != "" {
		args = []string{s.cfg.sentinelConf, "--sentinel"}
	}
	args = append(args,
		"--port", port,
		"--bind", "127.0.0.1",
		"--unixsocket", s.Socket(),
		"--unixsocketperm", "700",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
	)
	if s.cfg.Password != "" {
		args = append(args, "--requirepass", s.cfg.Password)
	}
	if s.cfg.TLS {
		args[1] = "0" // no plain TCP port (TLS is never asked of a sentinel)
		args = append(args, "--tls-port", port, "--tls-cert-file", s.certFile, "--tls-key-file", s.keyFile,
			"--tls-ca-cert-file", s.certFile, "--tls-auth-clients", "no")
	}
	if s.busPort != 0 {
		args = append(args, "--cluster-port", strconv.Itoa(s.busPort))
	}
	args = append(args, s.cfg.Args...)
	cmd := exec.Command(s.binary, args...)
	out := new(bytes.Buffer) // read once the server has exited
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.awaitPong(exited); err != nil {
		s.Stop()
		return fmt.Errorf("redis-server on %s did not start: %w\n%s", s.Addr(), err, out)
	}
	return nil
}

// awaitPong dials the server's unix socket until it answers PING, or it
// exits. An authentication error (NOAUTH) also means the server is up.
func (s *Server) awaitPong(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		var reply string
		if reply, err = ping("unix", s.Socket(), false, time.Second); err == nil {
			if reply == "+PONG" || strings.HasPrefix(reply, "-NOAUTH") {
				return nil
			}
			err = fmt.Errorf("PING answered %q", reply)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// ping sends one inline PING to addr on network ("tcp" or "unix"), over
// TLS if told, and returns the reply line, or an error when none comes
// within timeout.
func ping(network, addr string, overTLS bool, timeout time.Duration) (string, error) {
	d := &net.Dialer{Timeout: timeout}
	var c net.Conn
	var err error
	if overTLS {
		// The server's certificate is the one the package made.
		c, err = tls.DialWithDialer(d, network, addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = d.Dial(network, addr)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// Client opens a client of s with the gateway's defaults (its timeouts
// among them), closed when the test ends.
func Client(t testing.TB, s *Server) *redisclient.Client {
	t.Helper()
	c, err := redisclient.New(s.URL(), redisclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Outage is one way for a server to fail and be repaired.
type Outage struct {
	Name         string
	Fail, Repair func(*Server)
	// Empties reports whether the repair loses what the server held.
	Empties bool
}

// Outages are the outages a client of Redis must live through: a crash,
// after which the server is back empty, and a freeze, which only a
// timeout can detect.
var Outages = []Outage{
	{"stopped and restarted", (*Server).Stop, (*Server).Restart, true},
	{"frozen and thawed", (*Server).Freeze, (*Server).Thaw, false},
}

// FailFast calls each op during an outage: each must fail, and within
// HangGuard, for a request must never hang on Redis. It returns their
// errors.
func FailFast(t testing.TB, ops ...func() error) []error {
	t.Helper()
	errs := make([]error, len(ops))
	for i, op := range ops {
		start := time.Now()
		err := op()
		took := time.Since(start)
		t.Logf("failed in %s: %v", took, err)
		if err == nil {
			t.Fatal("Redis answered during the outage")
		}
		if took > HangGuard {
			t.Fatalf("the call hung for %s", took)
		}
		errs[i] = err
	}
	return errs
}
