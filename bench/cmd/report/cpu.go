package main

import (
	"fmt"
	"os"
)

// ticksPerSecond is USER_HZ, the unit of /proc's CPU times: Linux reports
// them in hundredths of a second whatever the HZ the kernel was built with.
const ticksPerSecond = 100

// cpuTicks is the CPU time, user and system, that pid and its live children
// have used so far, in ticks of 1/ticksPerSecond s: nginx serves from worker
// processes under its master, each with its own times. A process's stat
// file counts all its threads, Caddy's goroutines' included.
func cpuTicks(pid int) (int64, error) { return sumTree(pid, ownTicks) }

// ownTicks is the CPU time of one process, in ticks.
func ownTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseCPUTicks(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return ticks, nil
}

// parseCPUTicks reads utime + stime from a /proc/PID/stat line: its fields
// 14 and 15.
func parseCPUTicks(stat string) (int64, error) {
	utime, err := statField(stat, 14, "utime")
	if err != nil {
		return 0, err
	}
	stime, err := statField(stat, 15, "stime")
	return utime + stime, err
}
