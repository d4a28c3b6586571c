package resp

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisHello3: go-redis negotiates RESP3 with HELLO 3, sends its
// CLIENT SETINFO pipeline, and works with the stream commands.
func TestGoRedisHello3(t *testing.T) {
	ts := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: ts.addr, Protocol: 3, ClientName: "gr"})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	info, err := rdb.ClientInfo(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT INFO: %v", err)
	}
	if info.Resp != 3 || info.Name != "gr" || info.LibName == "" {
		t.Errorf("CLIENT INFO: resp %d, name %q, lib-name %q; want 3, gr, go-redis", info.Resp, info.Name, info.LibName)
	}
	if !streamsReady() {
		return
	}
	id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"f", "v"}}).Result()
	if err != nil || id != "1-1" {
		t.Fatalf("XADD = %q, %v; want 1-1", id, err)
	}
	res, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "0"}}).Result()
	if err != nil || len(res) != 1 || res[0].Stream != "s" || len(res[0].Messages) != 1 || res[0].Messages[0].Values["f"] != "v" {
		t.Errorf("XREAD = %+v, %v; want one entry f=v", res, err)
	}
	_, err = rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 50 * time.Millisecond}).Result()
	if err != redis.Nil {
		t.Errorf("XREAD BLOCK timeout error = %v; want redis.Nil", err)
	}
}
