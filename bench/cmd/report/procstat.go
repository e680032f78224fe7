package main

import (
	"fmt"
	"strconv"
	"strings"
)

// statField reads field n (numbered from 1, as proc(5) numbers them) of a
// /proc/PID/stat line as a number; name says what it is in an error. The
// command name, field 2, sits in parentheses and may itself hold spaces
// and parentheses, so field 3 starts after the line's last ')'.
func statField(stat string, n int, name string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if n < 3 || len(f) < n-2 {
		return 0, fmt.Errorf("no %s in %q", name, stat)
	}
	v, err := strconv.ParseInt(f[n-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}
