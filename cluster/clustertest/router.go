package clustertest

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/streamraft/streamraft/fsm"
)

// Router is a cluster client for fault workloads that must know what
// happened to every command. It routes by slot and follows redirects
// itself, as a Redis Cluster client does, but unlike go-redis's
// ClusterClient it never resends a command whose outcome it does not
// know: a redirect (MOVED, TRYAGAIN, CLUSTERDOWN) or a refused connection
// means the command was not applied, and only then is it sent again; a
// timeout, a lost connection or UNCERTAIN ends it as Unknown. Underneath,
// each node is a plain go-redis client with its own retries off.
type Router struct {
	mu      sync.Mutex
	seeds   []string
	clients map[string]*redis.Client
	leader  map[int]string // slot -> the address last named for it
	next    int
}

// Outcome is what became of a command sent through a Router.
type Outcome int

const (
	// Applied: the command was answered (its reply may be a Redis error
	// such as WRONGTYPE, which counts as answered).
	Applied Outcome = iota + 1
	// NotApplied: every attempt was refused before it could be applied.
	NotApplied
	// Unknown: it may or may not have been applied.
	Unknown
)

const (
	// routerReadTimeout stays above the cluster's resolve bound (2.5 s), so
	// that an UNCERTAIN answer arrives before the client gives up.
	routerReadTimeout = 4 * time.Second
	// routerRetryPause spaces attempts after TRYAGAIN, CLUSTERDOWN or a
	// refused connection: an election takes about a second.
	routerRetryPause = 50 * time.Millisecond
)

// NewRouter makes a Router that starts from the given node addresses.
func NewRouter(seeds []string) *Router {
	return &Router{seeds: seeds, clients: map[string]*redis.Client{}, leader: map[int]string{}}
}

// Close closes every connection.
func (r *Router) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clients {
		_ = c.Close()
	}
	r.clients = map[string]*redis.Client{}
}

// Do sends args (whose key is key) until it is answered, refused for the
// last time before ctx ends (NotApplied), or its outcome is unknown.
// err is the last error (a Redis error reply when the outcome is Applied).
func (r *Router) Do(ctx context.Context, key string, args ...any) (any, Outcome, error) {
	slot := fsm.KeySlot([]byte(key))
	pause := time.NewTimer(0)
	defer pause.Stop()
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return nil, NotApplied, lastErr
		case <-pause.C:
		}
		addr := r.route(slot)
		res, err := r.client(addr).Do(ctx, args...).Result()
		if err == nil || errors.Is(err, redis.Nil) {
			return res, Applied, nil
		}
		lastErr = err
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "MOVED "):
			if f := strings.Fields(msg); len(f) == 3 {
				r.setRoute(slot, f[2])
			}
			pause.Reset(0)
		case strings.HasPrefix(msg, "TRYAGAIN ") || strings.HasPrefix(msg, "CLUSTERDOWN "):
			r.setRoute(slot, "") // ask another node next
			pause.Reset(routerRetryPause)
		case isDialError(err) || errors.Is(err, redis.ErrPoolTimeout):
			r.setRoute(slot, "")
			pause.Reset(routerRetryPause)
		case strings.HasPrefix(msg, "UNCERTAIN "), isIOError(err):
			r.setRoute(slot, "")
			return nil, Unknown, err
		default:
			return nil, Applied, err // a Redis error reply
		}
	}
}

// isDialError: the connection was refused or could not be made, so
// nothing was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// isIOError: the connection failed or timed out after the command may
// have been sent.
func isIOError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset")
}

// route is the address to send slot's command to: the last one named for
// it, or the next seed in turn.
func (r *Router) route(slot int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a := r.leader[slot]; a != "" {
		return a
	}
	r.next++
	return r.seeds[r.next%len(r.seeds)]
}

func (r *Router) setRoute(slot int, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leader[slot] = addr
}

// client is the plain go-redis client of addr, with every retry off.
func (r *Router) client(addr string) *redis.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.clients[addr]
	if c == nil {
		c = redis.NewClient(&redis.Options{
			Addr: addr, Protocol: 2, MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1,
			ReadTimeout: routerReadTimeout, WriteTimeout: routerReadTimeout, PoolSize: 8,
		})
		r.clients[addr] = c
	}
	return c
}
