package main

import "testing"

func TestMachine(t *testing.T) {
	// From this machine's /proc, cut to the lines around the ones read.
	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nstepping\t: 1\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n"
	if got := cpuModel(cpuinfo); got != "AMD EPYC" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel("processor\t: 0\nHardware\t: BCM2835\n"); got != "unknown CPU" {
		t.Errorf("cpuModel without a model name = %q", got)
	}
	gib, err := memTotalGiB("MemTotal:       24683568 kB\nMemFree:        19957032 kB\n")
	if err != nil || gib < 23.5 || gib > 23.6 {
		t.Errorf("memTotalGiB = %v, %v; want 23.54", gib, err)
	}
	if _, err := memTotalGiB("MemFree:        19957032 kB\n"); err == nil {
		t.Error("memTotalGiB without MemTotal: no error")
	}
	m, err := readMachine()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUs < 1 || m.MemGiB <= 0 || m.Kernel == "" || m.Load == "" {
		t.Errorf("readMachine = %+v", m)
	}
}

func TestVersions(t *testing.T) {
	// What the tools print, from Debian 12's packages and a Caddy built here.
	tests := []struct {
		got, want string
	}{
		{caddyVersion("v2.11.9 h1:bhZtcRKQOq0fuLvEgCdPYvUxXyGn9kzjG4lh2332DTE=\n"), "v2.11.9"},
		{caddyVersion(""), "unknown"},
		{nginxVersion("nginx version: nginx/1.22.1\n"), "nginx/1.22.1"},
		{redisVersion("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0\n"), "7.0.15"},
		{redisVersion("redis-server: not found"), "unknown"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
