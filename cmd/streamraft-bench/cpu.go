package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// CPUUse is one process's CPU time over a measured window: the cores it
// kept busy on average, and its CPU time per operation of the result it is
// attached to.
type CPUUse struct {
	Process string  `json:"process"`
	Cores   float64 `json:"cores"`
	USPerOp float64 `json:"us_per_op"`
}

// proc is a process whose CPU time a run reports.
type proc struct {
	name string
	pid  int
}

// cpuSampler measures the CPU time of the load generator itself and of the
// server processes it started (--compare) between begin and end. Servers it
// did not start have no known pid: only the load generator is reported then.
type cpuSampler struct {
	procs []proc
	start []time.Duration // per proc, then the load generator last
	began time.Time
}

func newCPUSampler(procs []proc) *cpuSampler { return &cpuSampler{procs: procs} }

// sample reads the CPU time of every proc and of this process. A proc
// whose time cannot be read (gone, or no /proc here) reads as -1.
func (s *cpuSampler) sample() []time.Duration {
	out := make([]time.Duration, 0, len(s.procs)+1)
	for _, p := range s.procs {
		d, err := procCPU(p.pid)
		if err != nil {
			d = -1
		}
		out = append(out, d)
	}
	return append(out, selfCPU())
}

func (s *cpuSampler) begin(now time.Time) {
	s.start, s.began = s.sample(), now
}

// end returns each process's use since begin, per op of a result with ops
// operations (0: no per-op figure).
func (s *cpuSampler) end(now time.Time) func(ops int64) []CPUUse {
	if s.start == nil {
		return func(int64) []CPUUse { return nil }
	}
	stop, wall := s.sample(), now.Sub(s.began)
	names := make([]string, 0, len(s.procs)+1)
	for _, p := range s.procs {
		names = append(names, p.name)
	}
	names = append(names, "streamraft-bench")
	return func(ops int64) []CPUUse {
		var uses []CPUUse
		for i, name := range names {
			if s.start[i] < 0 || stop[i] < 0 || wall <= 0 {
				continue
			}
			used := stop[i] - s.start[i]
			u := CPUUse{Process: name, Cores: used.Seconds() / wall.Seconds()}
			if ops > 0 {
				u.USPerOp = float64(used.Microseconds()) / float64(ops)
			}
			uses = append(uses, u)
		}
		return uses
	}
}

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is pid's user and system CPU time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

// parseProcStat reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseProcStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	// After ')': field 3 (state) onwards; utime is field 14, index 11 here.
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, field := range f[11:13] {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
