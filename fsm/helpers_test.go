package fsm

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// args splits a command line on spaces into argv.
func args(line string) [][]byte {
	var argv [][]byte
	for _, f := range strings.Fields(line) {
		argv = append(argv, []byte(f))
	}
	return argv
}

// do applies one command as its own log entry with the given stamp, or runs
// it through Read when it is a read command.
func do(m *Machine, stamp int64, argv [][]byte) Reply {
	if !IsWrite(argv) {
		if len(argv) > 0 {
			if _, ok := commandTable[strings.ToLower(string(argv[0]))]; ok {
				return m.Read(argv, stamp)
			}
		}
	}
	replies, _ := m.Apply(&Entry{Stamp: stamp, Reqs: []Request{{Cmds: [][][]byte{argv}}}})
	return replies[0]
}

// render writes r as RESP2, as the resp package will.
func render(r Reply) string {
	var b strings.Builder
	renderTo(&b, r)
	return b.String()
}

func renderTo(b *strings.Builder, r Reply) {
	switch r.Kind {
	case KindSimple:
		fmt.Fprintf(b, "+%s\r\n", r.Str)
	case KindError:
		fmt.Fprintf(b, "-%s\r\n", r.Str)
	case KindInt:
		fmt.Fprintf(b, ":%d\r\n", r.Int)
	case KindBulk:
		fmt.Fprintf(b, "$%d\r\n%s\r\n", len(r.Bulk), r.Bulk)
	case KindNull:
		b.WriteString("$-1\r\n")
	case KindNullArray:
		b.WriteString("*-1\r\n")
	case KindArray, KindMap:
		fmt.Fprintf(b, "*%d\r\n", len(r.Elems))
		for _, e := range r.Elems {
			renderTo(b, e)
		}
	case KindPairs:
		fmt.Fprintf(b, "*%d\r\n", len(r.Elems)/2)
		for i := 0; i+1 < len(r.Elems); i += 2 {
			b.WriteString("*2\r\n")
			renderTo(b, r.Elems[i])
			renderTo(b, r.Elems[i+1])
		}
	}
}

// redisConn is a minimal RESP2 client for differential tests.
type redisConn struct {
	c net.Conn
	r *bufio.Reader
}

// startRedis starts a private redis-server, or skips the test when none is
// installed.
func startRedis(t testing.TB) *redisConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second) // redis starts in a few ms
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			rc := &redisConn{c: c, r: bufio.NewReader(c)}
			t.Cleanup(func() { c.Close() })
			return rc
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends argv and returns the raw reply bytes.
func (rc *redisConn) do(t testing.TB, argv [][]byte) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(argv))
	for _, a := range argv {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := rc.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := rc.readReply(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func (rc *redisConn) readReply(out *strings.Builder) error {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	n, _ := strconv.Atoi(strings.TrimRight(line[1:], "\r\n"))
	switch line[0] {
	case '$':
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(rc.r, buf); err != nil {
				return err
			}
			out.Write(buf)
		}
	case '*':
		for i := 0; i < n; i++ {
			if err := rc.readReply(out); err != nil {
				return err
			}
		}
	}
	return nil
}

// compact renders r briefly for table tests: bulk strings as is, +OK, :5,
// -ERR ..., nil (null bulk), *nil (null array), [a b] arrays and
// {k:v k:v} maps and pairs.
func compact(r Reply) string {
	switch r.Kind {
	case KindSimple:
		return "+" + r.Str
	case KindError:
		return "-" + r.Str
	case KindInt:
		return ":" + strconv.FormatInt(r.Int, 10)
	case KindBulk:
		return string(r.Bulk)
	case KindNull:
		return "nil"
	case KindNullArray:
		return "*nil"
	case KindArray:
		parts := make([]string, len(r.Elems))
		for i, e := range r.Elems {
			parts[i] = compact(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	var parts []string
	for i := 0; i+1 < len(r.Elems); i += 2 {
		parts = append(parts, compact(r.Elems[i])+":"+compact(r.Elems[i+1]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// step is one command of a table test and its expected compact reply.
type step struct {
	stamp int64
	cmd   string
	want  string
}

// runSteps applies steps to m in order, failing on the first mismatch.
func runSteps(t *testing.T, m *Machine, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := compact(do(m, s.stamp, args(s.cmd)))
		if got != s.want {
			t.Fatalf("step %d: %s = %s; want %s", i, s.cmd, got, s.want)
		}
	}
}

// checkInvariants verifies every stream's bookkeeping against its blocks.
func checkInvariants(t testing.TB, m *Machine) {
	t.Helper()
	if len(m.keys) != m.order.Len() {
		t.Fatalf("%d keys but %d in the SCAN order", len(m.keys), m.order.Len())
	}
	for key, s := range m.keys {
		var live uint64
		s.blocks.Scan(func(b block) bool {
			if !b.valid() {
				t.Fatalf("%s: invalid block %v", key, b.first)
			}
			live += uint64(b.live)
			return true
		})
		if live != s.length {
			t.Fatalf("%s: length %d; blocks hold %d live entries", key, s.length, live)
		}
		first, ok := s.firstLive()
		if !ok {
			first = ID{}
		}
		if s.firstID != first {
			t.Fatalf("%s: firstID %v; first live entry %v", key, s.firstID, first)
		}
		if last, ok := s.lastLive(); ok && s.lastID.Less(last) {
			t.Fatalf("%s: lastID %v below the last entry %v", key, s.lastID, last)
		}
	}
}

// pinBlock is prepareBlock under the read lock, as ReadOrPrepare runs it.
func pinBlock(m *Machine, argv [][]byte) [][]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.prepareBlock(argv)
}
