package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCPUTicks(t *testing.T) {
	ticks := map[string]int64{
		// A /proc/PID/stat line as Linux 6.18 writes it, cut after the
		// fields read: utime 250, stime 31.
		"14966 (cat) R 14958 14958 2028 0 -1 4194304 99 0 0 0 250 31 0 0 20 0 1 0": 281,
		// A command name may hold spaces and parentheses, even ") R 1 2".
		"9470 (go build (x) y) S 9453 9452 2028 0 -1 4194304 99 0 0 0 7 5 0 0":               12,
		"9471 (a) R 1 2 3 4 5 6 7 8 9 10 11 12) S 9453 9452 2028 0 -1 4194304 99 0 0 0 40 2": 42,
	}
	for stat, want := range ticks {
		if got, err := parseCPUTicks(stat); got != want || err != nil {
			t.Errorf("parseCPUTicks(%q) = %d, %v; want %d", stat, got, err, want)
		}
	}
	// parsePPID counts its fields the same way.
	if ppid, err := parsePPID("9471 (a) R 1 2 3 4 5 6 7 8 9 10 11 12) S 9453 9452 2028 0 -1"); ppid != 9453 || err != nil {
		t.Errorf("parsePPID of a name holding ') R 1' = %d, %v; want 9453", ppid, err)
	}
	for _, stat := range []string{
		"9470 (cat",
		"9470 (cat) R 9453 9452 2028 0 -1 4194304 99 0 0 0 7", // no stime
		"9470 (cat) R 9453 9452 2028 0 -1 4194304 99 0 0 0 x 5",
	} {
		if _, err := parseCPUTicks(stat); err == nil {
			t.Errorf("parseCPUTicks(%q): no error", stat)
		}
	}
}

// spin is where TestCPUTicks's busy loop puts its sums, so that the
// compiler keeps the loop.
var spin int

// TestCPUTicks reads this test's own process, then adds a child that spins.
func TestCPUTicks(t *testing.T) {
	pid := os.Getpid()
	first, err := cpuTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	if first < 0 {
		t.Fatalf("cpuTicks = %d", first)
	}
	// Spin until the ticks move: they must never go back, and they must
	// count the time spent.
	last := first
	for deadline := time.Now().Add(10 * time.Second); last == first; {
		if time.Now().After(deadline) {
			t.Fatalf("cpuTicks still %d after 10 s of spinning", first)
		}
		for i := range 1_000_000 {
			spin += i * i
		}
		ticks, err := cpuTicks(pid)
		if err != nil {
			t.Fatal(err)
		}
		if ticks < last {
			t.Fatalf("cpuTicks went from %d to %d", last, ticks)
		}
		last = ticks
	}
	t.Logf("%d ticks, then %d", first, last)

	child := exec.Command("sh", "-c", "while :; do :; done")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	var kid int64
	for deadline := time.Now().Add(10 * time.Second); kid == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the spinning child used no CPU time in 10 s")
		}
		if kid, err = ownTicks(child.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	own, err := ownTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	total, err := cpuTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Both keep counting between the reads.
	if total < own+kid {
		t.Errorf("cpuTicks = %d, want at least this process's %d + the child's %d", total, own, kid)
	}
	if _, err := cpuTicks(child.Process.Pid + 1<<22); err == nil {
		t.Error("cpuTicks of a pid above the kernel's limit: no error")
	}
}

// TestCPUCommand runs report cpu, whose output run.sh reads with $(...).
func TestCPUCommand(t *testing.T) {
	var out bytes.Buffer
	if err := runCommand([]string{"cpu", strconv.Itoa(os.Getpid())}, &out); err != nil {
		t.Fatal(err)
	}
	line, ok := strings.CutSuffix(out.String(), "\n")
	if n, err := strconv.ParseInt(line, 10, 64); !ok || err != nil || n < 0 {
		t.Errorf("report cpu printed %q, want a number of ticks and a newline", out.String())
	}
	for _, args := range [][]string{{"cpu"}, {"cpu", "self"}, {"cpu", "1", "2"}} {
		if err := runCommand(args, &out); err == nil {
			t.Errorf("report %s: no error", strings.Join(args, " "))
		}
	}
}
