//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rssProbe reads the peak resident set size of one process from
// /proc/<pid>/status (VmHWM), which counts only the memory of the program
// the process runs now. The ru_maxrss of wait4 would not do: when a child
// execs, Linux carries the peak of the memory it leaves, which was the
// bench's own, over into the child's figure.
//
// The probe holds the process's /proc directory open, so once the process
// is gone its reads fail, even if another process gets the same pid.
type rssProbe struct {
	dir *os.Root
}

func openRSSProbe(pid int) (*rssProbe, error) {
	dir, err := os.OpenRoot(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return nil, fmt.Errorf("watch worker memory: %w", err)
	}
	return &rssProbe{dir: dir}, nil
}

// peakKiB returns the process's peak resident set size so far in KiB, and
// false when it cannot be read, such as after the process exited.
func (p *rssProbe) peakKiB() (int64, bool) {
	status, err := p.dir.ReadFile("status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		return kib, err == nil
	}
	return 0, false
}

func (p *rssProbe) close() { p.dir.Close() }
