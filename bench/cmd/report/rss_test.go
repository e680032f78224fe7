package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParsePPID(t *testing.T) {
	ppids := map[string]int{
		// A /proc/PID/stat line as Linux 6.18 writes it, cut after the fields read.
		"14966 (cat) R 14958 14958 2028 0 -1 4194304 99 0 0 0": 14958,
		// A command name may hold spaces and parentheses.
		"9470 (go build (x) y) S 9453 9452 2028 0 -1": 9453,
	}
	for stat, want := range ppids {
		if got, err := parsePPID(stat); got != want || err != nil {
			t.Errorf("parsePPID(%q) = %d, %v; want %d", stat, got, err, want)
		}
	}
	for _, stat := range []string{"9470 (cat", "9470 (cat) R"} {
		if _, err := parsePPID(stat); err == nil {
			t.Errorf("parsePPID(%q): no error", stat)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tcat\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\nVmHWM:\t    2204 kB\nVmRSS:\t    2204 kB\n"
	if kb, err := parseVmHWM(strings.NewReader(status)); kb != 2204 || err != nil {
		t.Errorf("parseVmHWM = %d, %v; want 2204", kb, err)
	}
	// A kernel thread has no memory lines.
	if _, err := parseVmHWM(strings.NewReader("Name:\tkthreadd\nState:\tS (sleeping)\n")); err == nil {
		t.Error("parseVmHWM without VmHWM: no error")
	}
}

// TestPeakRSS sums a real process and its real child.
func TestPeakRSS(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	kids, err := children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids, child.Process.Pid) {
		t.Fatalf("children of this test %v, want %d among them", kids, child.Process.Pid)
	}
	own, err := vmHWM(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sleep, err := vmHWM(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	total, err := peakRSSKB(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Our own peak may grow between the reads, sleep's does not.
	if total < own+sleep {
		t.Errorf("peakRSSKB = %d kB, want at least this process's %d kB + sleep's %d kB", total, own, sleep)
	}
	if _, err := peakRSSKB(child.Process.Pid + 1<<22); err == nil {
		t.Error("peakRSSKB of a pid above the kernel's limit: no error")
	}
}
