package resp

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawClient speaks raw bytes to the server, for byte-exact assertions.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// ioTimeout bounds every raw read: long enough for a loaded 2-core
// machine, short enough that a hung server fails the test quickly.
const ioTimeout = 5 * time.Second

func dial(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// cmd sends argv as a multibulk command.
func (c *rawClient) cmd(argv ...string) {
	c.t.Helper()
	c.send(encode(argv...))
}

func encode(argv ...string) string {
	var b strings.Builder
	b.WriteString("*" + itoa(int64(len(argv))) + "\r\n")
	for _, a := range argv {
		b.WriteString("$" + itoa(int64(len(a))) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// reply reads one complete RESP value and returns its raw bytes.
func (c *rawClient) reply() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	var b strings.Builder
	if err := readValue(c.br, &b); err != nil {
		c.t.Fatalf("read reply: %v (so far %q)", err, b.String())
	}
	return b.String()
}

func readValue(br *bufio.Reader, b *strings.Builder) error {
	line, err := br.ReadString('\n')
	b.WriteString(line)
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return io.ErrUnexpectedEOF
	}
	n, _ := parseInt([]byte(line[1 : len(line)-2]))
	switch line[0] {
	case '$', '=':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~':
		for i := int64(0); i < n; i++ {
			if err := readValue(br, b); err != nil {
				return err
			}
		}
	case '%':
		for i := int64(0); i < 2*n; i++ {
			if err := readValue(br, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// do sends argv and returns the reply.
func (c *rawClient) do(argv ...string) string {
	c.t.Helper()
	c.cmd(argv...)
	return c.reply()
}

// expectClosed checks the server closes the connection (after any bytes
// still buffered).
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	rest, err := io.ReadAll(c.br)
	if err != nil {
		c.t.Fatalf("connection not closed: %v (read %q)", err, rest)
	}
	if len(rest) != 0 {
		c.t.Fatalf("unexpected bytes before close: %q", rest)
	}
}
