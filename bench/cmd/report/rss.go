package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// rss is the peak resident memory of one contender's processes after its
// scenario.
type rss struct {
	label
	KB int64 `json:"kb"`
}

// peakRSSKB is the VmHWM of pid plus that of its children: nginx serves from
// worker processes under its master, and each has its own peak.
func peakRSSKB(pid int) (int64, error) { return sumTree(pid, vmHWM) }

// vmHWM is the peak resident memory of one process, in kB.
func vmHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	kb, err := parseVmHWM(f)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return kb, nil
}

// sumTree adds up read over pid and its live children. A child that exits
// meanwhile counts for nothing; pid itself must be there.
func sumTree(pid int, read func(pid int) (int64, error)) (int64, error) {
	pids, err := children(pid)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range append([]int{pid}, pids...) {
		n, err := read(p)
		if err != nil {
			if p != pid && errors.Is(err, fs.ErrNotExist) {
				continue // a child that has just exited
			}
			return 0, err
		}
		total += n
	}
	return total, nil
}

// parseVmHWM reads the "VmHWM:  1234 kB" line of a /proc/PID/status file.
func parseVmHWM(r io.Reader) (int64, error) {
	kb := int64(-1)
	err := eachLine(r, func(line string) (err error) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, err = strconv.ParseInt(f[1], 10, 64)
		}
		return err
	})
	if err == nil && kb < 0 {
		err = errors.New("no VmHWM line")
	}
	return kb, err
}

// children lists the processes whose parent is pid, from every
// /proc/PID/stat, as pgrep -P does.
func children(pid int) ([]int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process has exited since the glob
		}
		ppid, err := parsePPID(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if ppid == pid {
			p, _ := strconv.Atoi(filepath.Base(filepath.Dir(path))) // the glob matched digits only
			out = append(out, p)
		}
	}
	return out, nil
}

// parsePPID reads the parent's pid from a /proc/PID/stat line: its
// fourth field.
func parsePPID(stat string) (int, error) {
	ppid, err := statField(stat, 4, "parent pid")
	return int(ppid), err
}
