package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The streamraft binary is built once per test run, into a directory that
// TestMain removes at the end.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
	buildOut  []byte
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildBinary builds ./cmd/streamraft once per test run and returns the
// binary's path.
func buildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "streamraft-bin-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "streamraft")
		cmd := exec.Command("go", "build", "-o", buildPath, ".")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build streamraft: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}
