package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses, utime 250 and stime 130
	// ticks (fields 14 and 15).
	line := "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 9 0 1000 123456 789\n"
	got, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want {
		t.Errorf("parseProcStat = %v; want %v", got, want)
	}
	for _, bad := range []string{"", "4242 no parens S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 z 130 0"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded; want an error", bad)
		}
	}
}

// TestProcCPUAgreesWithRusage: this process's CPU time read the way a
// server's is (/proc) matches getrusage after some busy work.
func TestProcCPUAgreesWithRusage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	spin := time.Now()
	for time.Since(spin) < 300*time.Millisecond {
	}
	fromProc, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self := selfCPU()
	if fromProc < 200*time.Millisecond {
		t.Fatalf("procCPU = %v after 300 ms of spinning; want at least 200 ms", fromProc)
	}
	if d := self - fromProc; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("procCPU = %v, getrusage = %v; want them within 50 ms", fromProc, self)
	}
}

// TestCPUSamplerPerOp: the window's CPU is split per operation and
// per core, and a process that cannot be read is left out.
func TestCPUSamplerPerOp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	s := newCPUSampler([]proc{{name: "me", pid: os.Getpid()}, {name: "gone", pid: 1 << 30}})
	start := time.Now()
	s.begin(start)
	for time.Since(start) < 200*time.Millisecond {
	}
	uses := s.end(time.Now())(1000)
	if len(uses) != 2 || uses[0].Process != "me" || uses[1].Process != "streamraft-bench" {
		t.Fatalf("uses = %+v; want me and streamraft-bench (gone left out)", uses)
	}
	for _, u := range uses {
		// 200 ms of spinning on one core: ~1 core, ~200 us per op.
		if u.Cores < 0.5 || u.Cores > 1.5 || u.USPerOp < 100 || u.USPerOp > 400 {
			t.Errorf("%s: %.2f cores, %.0f us/op; want about 1 core and 200 us/op", u.Process, u.Cores, u.USPerOp)
		}
	}
	if got := newCPUSampler(nil).end(time.Now())(10); got != nil {
		t.Errorf("a sampler that never began reported %+v", got)
	}
}
