package clustertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// AckLog records every XADD a cluster acknowledged.
type AckLog struct {
	mu  sync.Mutex
	ids map[string][]string // stream -> IDs in order
}

// Add records that stream acknowledged id.
func (a *AckLog) Add(stream, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string][]string{}
	}
	a.ids[stream] = append(a.ids[stream], id)
}

// Total is how many writes were acknowledged.
func (a *AckLog) Total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ids := range a.ids {
		n += len(ids)
	}
	return n
}

// loadRetryPause spaces a writer's attempts after an error (a failover in
// progress), so it does not spin against a cluster that cannot answer.
const loadRetryPause = 20 * time.Millisecond

// WriteLoad XADDs to streams load-0..load-63 from 4 writers through cc
// until stop is closed, recording acknowledged IDs; errors (failovers) are
// retried. wg counts the writers.
func WriteLoad(cc *redis.ClusterClient, acked *AckLog, stop <-chan struct{}, wg *sync.WaitGroup) {
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry := time.NewTimer(0)
			defer retry.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-retry.C:
				}
				stream := fmt.Sprintf("load-%d", (i*4+w)%64)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []string{"w", fmt.Sprint(w), "i", fmt.Sprint(i)}}).Result()
				cancel()
				if err == nil {
					acked.Add(stream, id)
					retry.Reset(0)
				} else {
					retry.Reset(loadRetryPause)
				}
			}
		}()
	}
}

// CheckAcked reads every stream back and fails t on any acknowledged entry
// that is missing.
func CheckAcked(t testing.TB, cc *redis.ClusterClient, acked *AckLog) {
	t.Helper()
	acked.mu.Lock()
	defer acked.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for stream, ids := range acked.ids {
		msgs, err := cc.XRange(ctx, stream, "-", "+").Result()
		if err != nil {
			t.Fatalf("XRANGE %s: %v", stream, err)
		}
		have := map[string]bool{}
		for _, m := range msgs {
			have[m.ID] = true
		}
		for _, id := range ids {
			if !have[id] {
				t.Fatalf("acknowledged entry %s %s is missing (stream has %d entries)", stream, id, len(msgs))
			}
		}
	}
}
