package resp

import (
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startRedis runs a throw-away redis-server 7.0 on a free port, or skips.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := net.Dial("tcp", addr)
		if err == nil {
			nc.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// helloID matches HELLO's connection id, which differs between servers.
var helloID = regexp.MustCompile(`(\$2\r\nid\r\n:)\d+`)

// diffScripts are command sequences whose replies must be byte-identical
// to Redis 7.0.15's. Each runs on a fresh connection after FLUSHALL.
var diffScripts = [][][]string{
	{{"PING"}, {"PING", "hi"}, {"PING", "a", "b"}, {"ECHO", "x"}, {"ECHO"}, {"FOO", "a", "b"}, {"foo"}},
	{{"CLIENT", "FOO"}, {"CLIENT"}, {"XGROUP", "FOO"}, {"XINFO"}, {"XADD", "s"}, {"COMMAND", "FOO"}},
	{{"SELECT", "0"}, {"SELECT", "x"}, {"AUTH", "x"}, {"AUTH", "a", "b"}, {"AUTH", "default", "x"}, {"AUTH", "a", "b", "c"}},
	{{"HELLO", "4"}, {"HELLO", "x"}, {"HELLO", "3", "FOO"}, {"HELLO", "2", "SETNAME", "a b"}, {"HELLO", "3", "AUTH", "a", "b"}},
	{{"CLIENT", "SETNAME", "a"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "a b"}, {"CLIENT", "SETNAME", ""}, {"CLIENT", "GETNAME"}},
	{{"CLIENT", "NO-EVICT", "on"}, {"CLIENT", "NO-EVICT", "x"}, {"CLIENT", "KILL", "1.2.3.4:5"}, {"CLIENT", "KILL", "ID", "99999"},
		{"CLIENT", "LIST", "TYPE", "foo"}, {"CLIENT", "LIST", "ID", "x"}, {"CLIENT", "LIST", "TYPE", "pubsub"}, {"CLIENT", "ID", "x"}},
	{{"WAIT", "0", "0"}, {"WAIT", "x", "0"}, {"WAIT", "0", "-1"}, {"WAIT", "0", "x"}},
	{{"MULTI"}, {"MULTI"}, {"PING"}, {"ECHO", "e"}, {"EXEC"}, {"EXEC"}, {"DISCARD"}, {"WATCH"}, {"UNWATCH"}},
	{{"MULTI"}, {"FOO"}, {"PING"}, {"EXEC"}},
	{{"MULTI"}, {"WATCH", "x"}, {"PING"}, {"EXEC"}},
	{{"MULTI"}, {"PING"}, {"RESET"}, {"MULTI"}, {"DISCARD"}, {"EXEC"}},
	{{"CONFIG", "SET", "foo", "1"}, {"CONFIG", "SET", "databases", "2"}, {"CONFIG", "SET", "maxclients", "abc"},
		{"CONFIG", "SET", "stream-node-max-entries", "-1"}, {"CONFIG", "SET", "maxclients"}, {"CONFIG", "GET", "nothing"},
		{"CONFIG", "GET"}, {"CONFIG", "FOO"}, {"CONFIG", "GET", "maxclients"}, {"CONFIG", "GET", "stream-node-max-e*"},
		{"CONFIG", "SET", "stream-node-max-entries", "100", "stream-node-max-entries", "100"},
		{"CONFIG", "SET", "stream-node-max-entries", "100"}, {"CONFIG", "GET", "timeout"}, {"CONFIG", "GET", "maxmemory"}},
	{{"COMMAND", "INFO", "nosuch", "xlen"}, {"COMMAND", "GETKEYS", "xlen"}, {"COMMAND", "GETKEYS", "foo", "x"},
		{"COMMAND", "GETKEYS", "xread", "STREAMS", "a", "b", "0", "0"}, {"COMMAND", "COUNT", "x"},
		{"COMMAND", "GETKEYS", "xlen", "a", "b"}, {"COMMAND", "GETKEYS", "xadd", "s", "*", "a", "b"},
		{"COMMAND", "GETKEYS", "del", "a", "b", "c"}, {"COMMAND", "GETKEYS", "xgroup", "create", "s", "g", "$"},
		{"COMMAND", "LIST", "FILTERBY", "PATTERN", "xlen"}, {"COMMAND", "DOCS", "nosuch"}},
	{{"INFO", "nosuch"}, {"INFO", "cluster"}},
	{{"HELLO", "3"}, {"CONFIG", "GET", "maxclients"}, {"COMMAND", "INFO", "nosuch"}, {"CLIENT", "GETNAME"}, {"INFO", "nosuch"},
		{"RESET"}, {"CLIENT", "GETNAME"}},
}

// diffStreamScripts need the fsm's stream commands.
var diffStreamScripts = [][][]string{
	{{"XADD", "s", "1-1", "a", "b"}, {"XLEN", "s"}, {"XRANGE", "s", "-", "+"}, {"XADD", "s", "1-1", "a", "b"},
		{"EXISTS", "s", "s", "x"}, {"TYPE", "s"}, {"DBSIZE"}, {"DEL", "s"}, {"TYPE", "s"}},
	{{"MULTI"}, {"XADD", "s", "bad", "a", "b"}, {"XLEN", "s"}, {"EXEC"}},
	{{"MULTI"}, {"XADD", "s", "2-1", "a", "b"}, {"PING"}, {"XREAD", "BLOCK", "100", "STREAMS", "nokey", "$"}, {"XLEN", "s"}, {"EXEC"}},
	{{"XADD", "s", "1-1", "f", "v"}, {"XREAD", "STREAMS", "s", "0"}, {"XREAD", "BLOCK", "10", "STREAMS", "s", "$"},
		{"HELLO", "3"}, {"XREAD", "STREAMS", "s", "0"}, {"XREAD", "BLOCK", "10", "STREAMS", "s", "$"}},
	{{"XADD", "s", "1-1", "f", "v"}, {"WATCH", "s"}, {"XADD", "s", "2-1", "f", "v"}, {"MULTI"}, {"XLEN", "s"}, {"EXEC"},
		{"WATCH", "s"}, {"MULTI"}, {"XLEN", "s"}, {"EXEC"}},
}

// diffProtocol are raw inputs that end in a protocol error (or not).
var diffProtocol = []string{
	"*abc\r\n", "*2\r\n$x\r\n", "*1\r\nx\r\n", "*1\r\n$-1\r\n", "*1\r\n$600000000\r\n", "PING \"abc\r\n",
	"\r\n\r\n*0\r\nPING\r\n", "*-5\r\nPING\r\n", "ECHO \"a\\x41b\\n\"\r\n", "ECHO 'a\\'b'\r\n", "ECHO \"a\"b\r\n",
	"*+1\r\n", "*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n", "PING\nPING\r\n", "\"\"\r\n",
	strings.Repeat("A", 65537), "*" + strings.Repeat("1", 65537), "*1\r\n$" + strings.Repeat("1", 65537),
	"*3\r\n$4\r\nPING\r\n$1\r\na\r\n" + "QUIT\r\nPING\r\n",
}

func TestDifferentialWithRedis(t *testing.T) {
	raddr := startRedis(t)
	ts := startServer(t, Config{})
	scripts := diffScripts
	if streamsReady() {
		scripts = append(scripts, diffStreamScripts...)
	} else {
		t.Log("fsm stream commands not ready: stream scripts skipped")
	}
	for i, script := range scripts {
		for _, addr := range []string{raddr, ts.addr} {
			c := dial(t, addr)
			c.do("FLUSHALL")
			c.nc.Close()
		}
		rc, oc := dial(t, raddr), dial(t, ts.addr)
		for _, argv := range script {
			want, got := helloID.ReplaceAllString(rc.do(argv...), "${1}N"), helloID.ReplaceAllString(oc.do(argv...), "${1}N")
			if got != want {
				t.Errorf("script %d %q:\n got %q\nwant %q", i, argv, got, want)
			}
		}
	}
	for _, in := range diffProtocol {
		want, got := rawExchange(t, raddr, in), rawExchange(t, ts.addr, in)
		if got != want {
			t.Errorf("raw %.40q:\n got %q\nwant %q", in, got, want)
		}
	}
}

// rawExchange sends in and returns what comes back until the connection is
// closed or stays quiet for quietPeriod.
func rawExchange(t *testing.T, addr, in string) string {
	t.Helper()
	// quietPeriod: how long both servers get to answer a raw input before
	// the exchange is taken as complete (they answer in microseconds).
	const quietPeriod = 300 * time.Millisecond
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 4096)
	for {
		_ = nc.SetReadDeadline(time.Now().Add(quietPeriod))
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return string(out) + "<closed>"
		}
		if err != nil {
			return string(out)
		}
	}
}
