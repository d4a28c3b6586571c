package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/streamraft/streamraft/cluster"
	"github.com/streamraft/streamraft/resp"
)

func TestBackendErr(t *testing.T) {
	other := errors.New("disk on fire")
	tests := []struct {
		in   error
		want error
	}{
		{nil, nil},
		{cluster.ErrNoLeader, resp.ErrTryAgain},
		{fmt.Errorf("wrapped: %w", cluster.ErrNoLeader), resp.ErrTryAgain},
		{cluster.ErrShutdown, resp.ErrClusterDown},
		{cluster.ErrNotLeader, resp.ErrClusterDown},
		{context.Canceled, context.Canceled},
		{other, other},
	}
	for _, tc := range tests {
		if got := backendErr(tc.in); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
			t.Errorf("backendErr(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}
