package cluster

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHclogAdapter(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		log   func(hclog.Logger)
		want  string // "" for nothing logged
	}{
		{"info passes", slog.LevelInfo, func(l hclog.Logger) { l.Info("hello", "k", 1) }, "level=INFO msg=hello raft=net k=1"},
		{"debug filtered", slog.LevelInfo, func(l hclog.Logger) { l.Debug("hidden") }, ""},
		{"trace is debug", slog.LevelDebug, func(l hclog.Logger) { l.Trace("t") }, "level=DEBUG msg=t"},
		{"with args", slog.LevelInfo, func(l hclog.Logger) { l.With("a", "b").Warn("w") }, "level=WARN msg=w raft=net a=b"},
		{"named", slog.LevelInfo, func(l hclog.Logger) { l.Named("sub").Error("e") }, "raft=net.sub"},
		{"format arg", slog.LevelInfo, func(l hclog.Logger) { l.Info("cfg", "servers", hclog.Fmt("%d-%s", 7, "x")) }, "servers=7-x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}})
			tc.log(newHclog(slog.New(h), "net"))
			got := strings.TrimSpace(buf.String())
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("logged %q; want %q", got, tc.want)
			}
		})
	}
}
