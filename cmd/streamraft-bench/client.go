package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// groupName is the consumer group the group, e2e and mixed workloads use.
	groupName = "bench"
	// detectTimeout bounds the CLUSTER INFO probe.
	detectTimeout = 5 * time.Second
	// commandTimeout is the socket read timeout of every command. A Raft
	// write under 50 clients takes milliseconds; seconds mean the server is
	// stuck, and the error counter should say so.
	commandTimeout = 10 * time.Second
	// spareConns are connections beyond one per goroutine, for set-up.
	spareConns = 4
)

// detectCluster asks addr for CLUSTER INFO: a cluster node (Redis Cluster,
// streamraft) answers with cluster_state, a standalone redis-server with
// "ERR This instance has cluster support disabled".
func detectCluster(ctx context.Context, addr string, protocol int) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: protocol, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return false, fmt.Errorf("PING %s: %w", addr, err)
	}
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		var rerr redis.Error
		if errors.As(err, &rerr) {
			return false, nil // a server error: no cluster support
		}
		return false, fmt.Errorf("CLUSTER INFO %s: %w", addr, err)
	}
	return strings.Contains(info, "cluster_state:"), nil
}

// connect returns a client for t with a connection per goroutine, and
// whether it is a cluster client.
func connect(ctx context.Context, cfg config, t Target, goroutines int) (redis.UniversalClient, bool, error) {
	isCluster := cfg.cluster == clusterOn
	if cfg.cluster == clusterAuto {
		var err error
		if isCluster, err = detectCluster(ctx, t.Addrs[0], cfg.resp); err != nil {
			return nil, false, err
		}
	}
	pool := goroutines + spareConns
	if isCluster {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Protocol: cfg.resp, PoolSize: pool, PipelinePoolSize: -1,
			ReadTimeout: commandTimeout, DisableIdentity: true, MaxRetries: -1,
		}), true, nil
	}
	return redis.NewClient(&redis.Options{
		Addr: t.Addrs[0], Protocol: cfg.resp, PoolSize: pool, PipelinePoolSize: -1,
		ReadTimeout: commandTimeout, DisableIdentity: true, MaxRetries: -1,
	}), false, nil
}

// flushKeys deletes the bench keys one by one: in a cluster they live in
// different slots, and FLUSHALL would reach only one node's keys.
func flushKeys(ctx context.Context, c redis.UniversalClient, keys []string) error {
	for _, k := range keys {
		if err := c.Del(ctx, k).Err(); err != nil {
			return fmt.Errorf("DEL %s: %w", k, err)
		}
	}
	return nil
}

// createGroups makes group "bench" on every key, starting after the last
// entry (so consumers read only what this run adds); an existing group is
// moved there with XGROUP SETID.
func createGroups(ctx context.Context, c redis.UniversalClient, keys []string) error {
	for _, k := range keys {
		err := c.XGroupCreateMkStream(ctx, k, groupName, "$").Err()
		if err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") {
			err = c.XGroupSetID(ctx, k, groupName, "$").Err()
		}
		if err != nil {
			return fmt.Errorf("create group %s on %s: %w", groupName, k, err)
		}
	}
	return nil
}
