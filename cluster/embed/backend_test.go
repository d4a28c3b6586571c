package embed

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
		{cluster.ErrNotFormed, resp.ErrClusterDown},
		{fmt.Errorf("%w: %w", cluster.ErrUncertain, cluster.ErrNotLeader), resp.ErrUncertain},
		{context.Canceled, context.Canceled},
		{other, other},
	}
	for _, tc := range tests {
		if got := backendErr(tc.in, 7); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
			t.Errorf("backendErr(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
	nl := fmt.Errorf("write: %w", &cluster.NotLeaderError{Shard: 2, LeaderID: "n2", Addr: "10.0.0.2:6379"})
	var moved *resp.MovedError
	if got := backendErr(nl, 9000); !errors.As(got, &moved) || moved.Slot != 9000 || moved.Addr != "10.0.0.2:6379" {
		t.Errorf("backendErr(%v) = %v; want MOVED 9000 10.0.0.2:6379", nl, got)
	}
}
