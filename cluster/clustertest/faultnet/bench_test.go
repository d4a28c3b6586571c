package faultnet

import (
	"context"
	"io"
	"log"
	"net"
	"testing"

	"github.com/hashicorp/memberlist"
)

// The overhead of the Net when no rule touches the traffic, next to the
// plain socket: "other link ruled" has a cut elsewhere, so packets take
// the lookup path.

func BenchmarkConn(b *testing.B) {
	dials := []struct {
		name string
		dial func(n *Net) func(context.Context, string, string) (net.Conn, error)
	}{
		{"raw", func(*Net) func(context.Context, string, string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext
		}},
		{"faultnet", func(n *Net) func(context.Context, string, string) (net.Conn, error) { return n.Dial("a") }},
		{"faultnet other link ruled", func(n *Net) func(context.Context, string, string) (net.Conn, error) {
			n.Cut("c", "d")
			return n.Dial("a")
		}},
	}
	for _, d := range dials {
		b.Run("echo64/"+d.name, func(b *testing.B) {
			n := New(1)
			srv := startEcho(b)
			n.Register("b", srv.addr)
			c, err := d.dial(n)(context.Background(), "tcp", srv.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 64)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discardConn is a socket that costs nothing, to time the wrapper alone.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (discardConn) Read(p []byte) (int, error)  { return len(p), nil }

func BenchmarkWrapperOnly(b *testing.B) {
	n := New(1)
	n.Cut("c", "d")
	c := &conn{Conn: discardConn{}, n: n, out: n.link("a", "b"), in: n.link("b", "a")}
	buf := make([]byte, 64)
	for b.Loop() {
		_, _ = c.Write(buf)
		_, _ = c.Read(buf)
	}
}

func BenchmarkPacket(b *testing.B) {
	for _, tt := range []struct {
		name  string
		wrap  bool
		rules func(n *Net)
	}{
		{"raw", false, func(*Net) {}},
		{"faultnet", true, func(*Net) {}},
		{"faultnet other link ruled", true, func(n *Net) { n.Cut("c", "d") }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			n := New(1)
			tt.rules(n)
			newNT := func() (*memberlist.NetTransport, string) {
				nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
					BindAddrs: []string{"127.0.0.1"}, Logger: log.New(io.Discard, "", 0),
				})
				if err != nil {
					b.Fatal(err)
				}
				return nt, (&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nt.GetAutoBindPort()}).String()
			}
			ntA, addrA := newNT()
			ntB, addrB := newNT()
			n.Register("a", addrA)
			n.Register("b", addrB)
			var from, to memberlist.Transport = ntA, ntB
			if tt.wrap {
				from, to = n.WrapTransport("a", ntA), n.WrapTransport("b", ntB)
			}
			done := make(chan struct{})
			go func() { // the receiver's listener blocks until its packets are taken
				for {
					select {
					case <-to.PacketCh():
					case <-done:
						return
					}
				}
			}()
			defer func() {
				_ = from.Shutdown()
				_ = to.Shutdown()
				close(done)
			}()
			msg := make([]byte, 256)
			for b.Loop() {
				if _, err := from.WriteTo(msg, addrB); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
