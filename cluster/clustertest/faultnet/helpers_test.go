package faultnet

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

const (
	// ioTimeout bounds any single step that should happen at once on
	// loopback (a dial, an echo, a close reaching the peer), with room for
	// -race on a loaded 2-core machine.
	ioTimeout = 5 * time.Second
	// quiet is how long a read waits to show that nothing arrives: long
	// enough for an echo on loopback to arrive many times over, so a
	// blackhole that leaked would be seen.
	quiet = 50 * time.Millisecond
)

// waitFor polls cond every few milliseconds until it holds or timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echoServer echoes what each connection sends and records it.
type echoServer struct {
	ln   net.Listener
	addr string

	mu    sync.Mutex
	conns []*serverConn
	wg    sync.WaitGroup
}

type serverConn struct {
	got  []byte
	done bool // the connection ended (EOF, reset or closed)
}

// startEcho listens on a loopback port until the test ends.
func startEcho(t testing.TB) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &echoServer{ln: ln, addr: ln.Addr().String()}
	var open sync.Map // net.Conn -> struct{}, closed at cleanup
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			open.Store(c, struct{}{})
			s.mu.Lock()
			sc := &serverConn{}
			s.conns = append(s.conns, sc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer open.Delete(c)
				s.serve(c, sc)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		open.Range(func(c, _ any) bool {
			_ = c.(net.Conn).Close()
			return true
		})
		s.wg.Wait()
	})
	return s
}

func (s *echoServer) serve(c net.Conn, sc *serverConn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			s.mu.Lock()
			sc.got = append(sc.got, buf[:n]...)
			s.mu.Unlock()
			if _, werr := c.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			s.mu.Lock()
			sc.done = true
			s.mu.Unlock()
			return
		}
	}
}

// conn returns what the i-th accepted connection received and whether it
// has ended; ok is false if there is no i-th connection yet.
func (s *echoServer) conn(i int) (got string, done, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.conns) {
		return "", false, false
	}
	return string(s.conns[i].got), s.conns[i].done, true
}

func (s *echoServer) accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// dialT dials addr as node from, failing the test on error.
func dialT(t *testing.T, n *Net, from, addr string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, err := n.Dial(from)(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("Dial(%q)(%s) error: %v; want a connection", from, addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readFor reads from c until want bytes came or timeout passes.
func readFor(c net.Conn, want int, timeout time.Duration) (string, error) {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	buf := make([]byte, want)
	got := 0
	for got < want {
		n, err := c.Read(buf[got:])
		got += n
		if err != nil {
			return string(buf[:got]), err
		}
	}
	return string(buf), nil
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// roundTrip writes msg on c and reads its echo.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("Write(%q) error: %v", msg, err)
	}
	got, err := readFor(c, len(msg), ioTimeout)
	if err != nil || got != msg {
		t.Fatalf("echo of %q = %q, %v; want %q, nil", msg, got, err, msg)
	}
}
