package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// machine is what the report says about the machine the run used.
type machine struct {
	CPUs   int
	CPU    string // the first "model name" of /proc/cpuinfo
	MemGiB float64
	Kernel string
	Load   string // the 1, 5 and 15 minute load averages when the report was written
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs, %s, %.0f GiB RAM, Linux %s, load average at the end: %s", m.CPUs, m.CPU, m.MemGiB, m.Kernel, m.Load)
}

// readMachine reads the machine from /proc; runtime.NumCPU counts the CPUs
// this process may run on, as nproc does.
func readMachine() (machine, error) {
	files := map[string]string{}
	for _, name := range []string{"cpuinfo", "meminfo", "loadavg", "sys/kernel/osrelease"} {
		b, err := os.ReadFile("/proc/" + name)
		if err != nil {
			return machine{}, err
		}
		files[name] = string(b)
	}
	mem, err := memTotalGiB(files["meminfo"])
	if err != nil {
		return machine{}, err
	}
	load := strings.Fields(files["loadavg"])
	if len(load) < 3 {
		return machine{}, fmt.Errorf("/proc/loadavg: %q", files["loadavg"])
	}
	return machine{
		CPUs:   runtime.NumCPU(),
		CPU:    cpuModel(files["cpuinfo"]),
		MemGiB: mem,
		Kernel: strings.TrimSpace(files["sys/kernel/osrelease"]),
		Load:   strings.Join(load[:3], " "),
	}, nil
}

// cpuModel is the first "model name" of a /proc/cpuinfo; some architectures
// have none.
func cpuModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// memTotalGiB reads the "MemTotal: N kB" line of a /proc/meminfo.
func memTotalGiB(meminfo string) (float64, error) {
	for line := range strings.Lines(meminfo) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / (1 << 20), err
		}
	}
	return 0, fmt.Errorf("no MemTotal line in /proc/meminfo")
}

// caddyVersion is the version of `caddy version`'s output, its first word.
func caddyVersion(out string) string {
	if f := strings.Fields(out); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// nginxVersion is "nginx/1.22.1" from `nginx -v`'s "nginx version: nginx/1.22.1".
func nginxVersion(out string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "nginx version:"))
}

// redisVersion is the v= field of `redis-server --version`.
func redisVersion(out string) string {
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return "unknown"
}
