package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// clientTimeout bounds each go-redis subtest.
	clientTimeout = 60 * time.Second
	// noBlock makes go-redis leave BLOCK out of XREAD (a zero Block sends
	// BLOCK 0, which waits forever).
	noBlock = -1
)

// clientTarget starts the server the client tests run against: streamraft,
// or a one-node Redis Cluster when STREAMRAFT_DIFF_TARGET=redis (to check
// the tests; streamraft runs the default --shards, so keys must share slots
// alike).
func clientTarget(t *testing.T) *process {
	t.Helper()
	if os.Getenv("STREAMRAFT_DIFF_TARGET") == "redis" {
		return startRedisCluster(t)
	}
	return startStreamraft(t, buildBinary(t))
}

// TestClient drives streamraft with go-redis v9 in RESP2 and RESP3 and
// checks the decoded values.
func TestClient(t *testing.T) {
	srv := clientTarget(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			c := redis.NewClient(&redis.Options{Addr: srv.addr, Protocol: proto})
			defer c.Close()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
			tests := []struct {
				name string
				fn   func(t *testing.T, ctx context.Context, c *redis.Client)
			}{
				{"XAdd", clientXAdd},
				{"XAddTrim", clientXAddTrim},
				{"XRange", clientXRange},
				{"XRead", clientXRead},
				{"XReadBlock", func(t *testing.T, ctx context.Context, c *redis.Client) {
					clientXReadBlock(t, ctx, c, srv.addr, proto)
				}},
				{"XDelXTrim", clientXDelXTrim},
				{"Keyspace", clientKeyspace},
				{"TxPipelined", clientTx},
				{"WatchConflict", func(t *testing.T, ctx context.Context, c *redis.Client) {
					clientWatch(t, ctx, c, srv.addr, proto)
				}},
				{"Pipeline1000", clientPipeline},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.fn(t, ctx, c) })
			}
		})
	}
}

// msg builds the expected XMessage.
func msg(id string, kv ...string) redis.XMessage {
	m := redis.XMessage{ID: id, Values: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Values[kv[i]] = kv[i+1]
	}
	return m
}

func clientXAdd(t *testing.T, ctx context.Context, c *redis.Client) {
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "cx", ID: "1-1", Values: []string{"f", "v"}}).Result()
	if err != nil || id != "1-1" {
		t.Fatalf("XADD cx 1-1 = %q, %v; want 1-1", id, err)
	}
	before := time.Now().UnixMilli()
	id, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "cx", Values: map[string]any{"n": 2}}).Result()
	if err != nil {
		t.Fatalf("XADD cx * error: %v", err)
	}
	ms, seq, ok := strings.Cut(id, "-")
	msN, errMs := strconv.ParseInt(ms, 10, 64)
	if !ok || errMs != nil || seq != "0" || msN < before-1000 || msN > time.Now().UnixMilli()+1000 {
		t.Errorf("XADD cx * = %q; want <now ms>-0 (now about %d)", id, before)
	}
	if _, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "cx", ID: "1-1", Values: []string{"f", "v"}}).Result(); err == nil ||
		err.Error() != "ERR The ID specified in XADD is equal or smaller than the target stream top item" {
		t.Errorf("XADD cx 1-1 again error = %v; want the equal-or-smaller error", err)
	}
	_, err = c.XAdd(ctx, &redis.XAddArgs{Stream: "cx-missing", NoMkStream: true, Values: []string{"f", "v"}}).Result()
	if !errors.Is(err, redis.Nil) {
		t.Errorf("XADD NOMKSTREAM on a missing key error = %v; want redis.Nil", err)
	}
	if n, err := c.Exists(ctx, "cx-missing").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS cx-missing = %d, %v; want 0", n, err)
	}
	if n, err := c.XLen(ctx, "cx").Result(); err != nil || n != 2 {
		t.Errorf("XLEN cx = %d, %v; want 2", n, err)
	}
	got, err := c.XRangeN(ctx, "cx", "-", "+", 1).Result()
	if want := []redis.XMessage{msg("1-1", "f", "v")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("XRANGE cx - + COUNT 1 = %v, %v; want %v", got, err, want)
	}
}

func clientXAddTrim(t *testing.T, ctx context.Context, c *redis.Client) {
	for i := 1; i <= 5; i++ {
		args := &redis.XAddArgs{Stream: "ct", ID: fmt.Sprintf("%d-0", i), Values: []string{"i", strconv.Itoa(i)}}
		if i == 5 {
			args.MaxLen = 3
		}
		if err := c.XAdd(ctx, args).Err(); err != nil {
			t.Fatalf("XADD ct %d: %v", i, err)
		}
	}
	got, err := c.XRange(ctx, "ct", "-", "+").Result()
	want := []redis.XMessage{msg("3-0", "i", "3"), msg("4-0", "i", "4"), msg("5-0", "i", "5")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after MAXLEN 3: XRANGE = %v, %v; want %v", got, err, want)
	}
	// Approximate trimming removes whole nodes only: nothing on a small stream.
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "ct", ID: "6-0", MaxLen: 1, Approx: true, Values: []string{"i", "6"}}).Err(); err != nil {
		t.Fatalf("XADD MAXLEN ~ 1: %v", err)
	}
	if n, err := c.XLen(ctx, "ct").Result(); err != nil || n != 4 {
		t.Errorf("after MAXLEN ~ 1: XLEN = %d, %v; want 4", n, err)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "ct", ID: "7-0", MinID: "5-0", Values: []string{"i", "7"}}).Err(); err != nil {
		t.Fatalf("XADD MINID 5-0: %v", err)
	}
	got, err = c.XRange(ctx, "ct", "-", "+").Result()
	want = []redis.XMessage{msg("5-0", "i", "5"), msg("6-0", "i", "6"), msg("7-0", "i", "7")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after MINID 5-0: XRANGE = %v, %v; want %v", got, err, want)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "ct", ID: "8-0", MinID: "8-0", Approx: true, Values: []string{"i", "8"}}).Err(); err != nil {
		t.Fatalf("XADD MINID ~ 8-0: %v", err)
	}
	if n, err := c.XLen(ctx, "ct").Result(); err != nil || n != 4 {
		t.Errorf("after MINID ~ 8-0: XLEN = %d, %v; want 4", n, err)
	}
}

func clientXRange(t *testing.T, ctx context.Context, c *redis.Client) {
	var all []redis.XMessage
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("%d-%d", i, i)
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "cr", ID: id, Values: []string{"k", id}}).Err(); err != nil {
			t.Fatalf("XADD cr %s: %v", id, err)
		}
		all = append(all, msg(id, "k", id))
	}
	rev := []redis.XMessage{all[3], all[2], all[1], all[0]}
	tests := []struct {
		name string
		cmd  *redis.XMessageSliceCmd
		want []redis.XMessage
	}{
		{"XRANGE - +", c.XRange(ctx, "cr", "-", "+"), all},
		{"XRANGE 2 3", c.XRange(ctx, "cr", "2", "3"), all[1:3]},
		{"XRANGE (2-2 +", c.XRange(ctx, "cr", "(2-2", "+"), all[2:]},
		{"XRANGE - + COUNT 2", c.XRangeN(ctx, "cr", "-", "+", 2), all[:2]},
		{"XREVRANGE + -", c.XRevRange(ctx, "cr", "+", "-"), rev},
		{"XREVRANGE + - COUNT 3", c.XRevRangeN(ctx, "cr", "+", "-", 3), rev[:3]},
		{"XREVRANGE 3 (1-1", c.XRevRange(ctx, "cr", "3", "(1-1"), rev[1:3]},
		{"XRANGE missing", c.XRange(ctx, "cr-missing", "-", "+"), []redis.XMessage{}},
	}
	for _, tt := range tests {
		got, err := tt.cmd.Result()
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func clientXRead(t *testing.T, ctx context.Context, c *redis.Client) {
	// One hash tag: a multi-key XREAD must stay in one slot on a sharded node.
	for _, a := range []struct{ key, id string }{{"{rd}1", "1-1"}, {"{rd}1", "1-2"}, {"{rd}1", "2-0"}, {"{rd}2", "5-0"}} {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: a.key, ID: a.id, Values: []string{"id", a.id}}).Err(); err != nil {
			t.Fatalf("XADD %s %s: %v", a.key, a.id, err)
		}
	}
	got, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"{rd}1", "{rd}2", "{rd}missing", "1-1", "0", "0"}, Count: 1, Block: noBlock}).Result()
	want := []redis.XStream{
		{Stream: "{rd}1", Messages: []redis.XMessage{msg("1-2", "id", "1-2")}},
		{Stream: "{rd}2", Messages: []redis.XMessage{msg("5-0", "id", "5-0")}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("XREAD COUNT 1 = %v, %v; want %v", got, err, want)
	}
	got, err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"{rd}1", "1-1"}, Block: noBlock}).Result()
	want = []redis.XStream{{Stream: "{rd}1", Messages: []redis.XMessage{msg("1-2", "id", "1-2"), msg("2-0", "id", "2-0")}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("XREAD rd1 1-1 = %v, %v; want %v", got, err, want)
	}
	if got, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"{rd}1", "$"}, Block: noBlock}).Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("XREAD rd1 $ = %v, %v; want redis.Nil", got, err)
	}
}

func clientXReadBlock(t *testing.T, ctx context.Context, c *redis.Client, addr string, proto int) {
	start := time.Now()
	if got, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"blk-empty", "$"}, Block: 100 * time.Millisecond}).Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("XREAD BLOCK 100 on an empty key = %v, %v; want redis.Nil", got, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("XREAD BLOCK 100 returned after %v; want >= 100ms", d)
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "blk", ID: "1-0", Values: []string{"a", "1"}}).Err(); err != nil {
		t.Fatalf("XADD blk 1-0: %v", err)
	}
	producer := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
	defer producer.Close()
	added := make(chan error, 1)
	go func() {
		// Wait until the reader is parked (or a settle delay where the
		// server does not report blocked clients), then add.
		if err := waitBlockedClients(addr, 1); err != nil && err != errNoBlockedInfo {
			added <- err
			return
		} else if err == errNoBlockedInfo {
			time.Sleep(settleDelay)
		}
		added <- producer.XAdd(ctx, &redis.XAddArgs{Stream: "blk", ID: "2-0", Values: []string{"b", "2"}}).Err()
	}()
	got, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"blk", "1-0"}, Block: 10 * time.Second}).Result()
	if perr := <-added; perr != nil {
		t.Fatalf("producer: %v", perr)
	}
	want := []redis.XStream{{Stream: "blk", Messages: []redis.XMessage{msg("2-0", "b", "2")}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("XREAD BLOCK woken by XADD = %v, %v; want %v", got, err, want)
	}
}

func clientXDelXTrim(t *testing.T, ctx context.Context, c *redis.Client) {
	for i := 1; i <= 10; i++ {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "dt", ID: fmt.Sprintf("%d-0", i), Values: []string{"i", strconv.Itoa(i)}}).Err(); err != nil {
			t.Fatalf("XADD dt %d: %v", i, err)
		}
	}
	tests := []struct {
		name string
		cmd  *redis.IntCmd
		want int64
	}{
		{"XDEL 1-0 2-0 99-0", c.XDel(ctx, "dt", "1-0", "2-0", "99-0"), 2},
		{"XDEL 1-0 again", c.XDel(ctx, "dt", "1-0"), 0},
		{"XTRIM MAXLEN 6", c.XTrimMaxLen(ctx, "dt", 6), 2},
		// Approximate trimming removes only whole nodes: here none can go.
		{"XTRIM MAXLEN ~ 5 LIMIT 0", c.XTrimMaxLenApprox(ctx, "dt", 5, redis.XTrimLimitDisabled), 0},
		{"XTRIM MINID 7-0", c.XTrimMinID(ctx, "dt", "7-0"), 2},
		{"XTRIM MINID ~ 9-0", c.XTrimMinIDApprox(ctx, "dt", "9-0", 0), 0},
		{"XLEN", c.XLen(ctx, "dt"), 4},
		{"XTRIM MAXLEN 0", c.XTrimMaxLen(ctx, "dt", 0), 4},
		{"EXISTS the emptied stream", c.Exists(ctx, "dt"), 1},
	}
	for _, tt := range tests {
		if got, err := tt.cmd.Result(); err != nil || got != tt.want {
			t.Errorf("%s = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

func clientKeyspace(t *testing.T, ctx context.Context, c *redis.Client) {
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("FLUSHDB: %v", err)
	}
	var keys []string
	for i := 0; i < 25; i++ {
		k := fmt.Sprintf("ks:%02d", i)
		keys = append(keys, k)
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: "1-1", Values: []string{"a", "b"}}).Err(); err != nil {
			t.Fatalf("XADD %s: %v", k, err)
		}
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 25 {
		t.Errorf("DBSIZE = %d, %v; want 25", n, err)
	}
	got, err := c.Keys(ctx, "ks:*").Result()
	sort.Strings(got)
	if err != nil || !reflect.DeepEqual(got, keys) {
		t.Errorf("KEYS ks:* = %v, %v; want %v", got, err, keys)
	}
	var scanned []string
	iter := c.Scan(ctx, 0, "ks:1*", 3).Iterator()
	for iter.Next(ctx) {
		scanned = append(scanned, iter.Val())
	}
	scanned = sortedUnique(scanned)
	if err := iter.Err(); err != nil || !reflect.DeepEqual(scanned, keys[10:20]) {
		t.Errorf("SCAN MATCH ks:1* = %v, %v; want %v", scanned, err, keys[10:20])
	}
	// The keys spread over the shards; multi-key commands use keys of one
	// slot ({ks:00}nope hashes as ks:00).
	if n, err := c.Exists(ctx, "ks:00", "ks:00", "{ks:00}nope").Result(); err != nil || n != 2 {
		t.Errorf("EXISTS ks:00 ks:00 {ks:00}nope = %d, %v; want 2", n, err)
	}
	if s, err := c.Type(ctx, "ks:00").Result(); err != nil || s != "stream" {
		t.Errorf("TYPE ks:00 = %q, %v; want stream", s, err)
	}
	if s, err := c.Type(ctx, "nope").Result(); err != nil || s != "none" {
		t.Errorf("TYPE nope = %q, %v; want none", s, err)
	}
	if n, err := c.Del(ctx, "ks:00", "{ks:00}nope").Result(); err != nil || n != 1 {
		t.Errorf("DEL ks:00 {ks:00}nope = %d, %v; want 1", n, err)
	}
	if n, err := c.Del(ctx, "ks:01").Result(); err != nil || n != 1 {
		t.Errorf("DEL ks:01 = %d, %v; want 1", n, err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 23 {
		t.Errorf("DBSIZE after DEL = %d, %v; want 23", n, err)
	}
}

func clientTx(t *testing.T, ctx context.Context, c *redis.Client) {
	var add1, add2 *redis.StringCmd
	var n *redis.IntCmd
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		add1 = p.XAdd(ctx, &redis.XAddArgs{Stream: "tx", ID: "1-0", Values: []string{"a", "1"}})
		add2 = p.XAdd(ctx, &redis.XAddArgs{Stream: "tx", ID: "2-0", Values: []string{"a", "2"}})
		n = p.XLen(ctx, "tx")
		return nil
	})
	if err != nil || len(cmds) != 3 {
		t.Fatalf("TxPipelined = %d cmds, %v; want 3, nil", len(cmds), err)
	}
	if add1.Val() != "1-0" || add2.Val() != "2-0" || n.Val() != 2 {
		t.Errorf("MULTI results = %q %q %d; want 1-0 2-0 2", add1.Val(), add2.Val(), n.Val())
	}
	// A state error inside EXEC fails only that command.
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		add1 = p.XAdd(ctx, &redis.XAddArgs{Stream: "tx", ID: "1-0", Values: []string{"a", "x"}})
		add2 = p.XAdd(ctx, &redis.XAddArgs{Stream: "tx", ID: "3-0", Values: []string{"a", "3"}})
		return nil
	})
	if err == nil || add1.Err() == nil || add2.Val() != "3-0" {
		t.Errorf("MULTI with a failing XADD: err %v, first %v, second %q; want an error, an error, 3-0", err, add1.Err(), add2.Val())
	}
}

func clientWatch(t *testing.T, ctx context.Context, c *redis.Client, addr string, proto int) {
	other := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
	defer other.Close()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "w", ID: "1-0", Values: []string{"a", "1"}}).Err(); err != nil {
		t.Fatalf("XADD w: %v", err)
	}
	txf := func(conflict bool, id string) error {
		return c.Watch(ctx, func(tx *redis.Tx) error {
			if conflict {
				if err := other.XAdd(ctx, &redis.XAddArgs{Stream: "w", ID: id + "0", Values: []string{"by", "other"}}).Err(); err != nil {
					return fmt.Errorf("conflicting XADD: %w", err)
				}
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.XAdd(ctx, &redis.XAddArgs{Stream: "w", ID: id + "1", Values: []string{"by", "tx"}})
				return nil
			})
			return err
		}, "w")
	}
	if err := txf(true, "2-"); !errors.Is(err, redis.TxFailedErr) {
		t.Errorf("WATCH with a conflicting write: %v; want redis.TxFailedErr", err)
	}
	if err := txf(false, "3-"); err != nil {
		t.Errorf("WATCH without a conflict: %v; want nil", err)
	}
	got, err := c.XRange(ctx, "w", "-", "+").Result()
	want := []redis.XMessage{msg("1-0", "a", "1"), msg("2-0", "by", "other"), msg("3-1", "by", "tx")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("XRANGE w = %v, %v; want %v", got, err, want)
	}
}

func clientPipeline(t *testing.T, ctx context.Context, c *redis.Client) {
	const n = 1000
	p := c.Pipeline()
	cmds := make([]*redis.StringCmd, n)
	for i := range cmds {
		cmds[i] = p.XAdd(ctx, &redis.XAddArgs{Stream: "pl", ID: fmt.Sprintf("%d-1", i+1), Values: []string{"i", strconv.Itoa(i)}})
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatalf("pipeline of %d XADDs: %v", n, err)
	}
	for i, cmd := range cmds {
		if want := fmt.Sprintf("%d-1", i+1); cmd.Val() != want {
			t.Fatalf("pipelined XADD %d = %q, %v; want %s", i, cmd.Val(), cmd.Err(), want)
		}
	}
	if got, err := c.XLen(ctx, "pl").Result(); err != nil || got != n {
		t.Errorf("XLEN pl = %d, %v; want %d", got, err, n)
	}
	last, err := c.XRevRangeN(ctx, "pl", "+", "-", 1).Result()
	if want := []redis.XMessage{msg("1000-1", "i", "999")}; err != nil || !reflect.DeepEqual(last, want) {
		t.Errorf("last entry = %v, %v; want %v", last, err, want)
	}
}
