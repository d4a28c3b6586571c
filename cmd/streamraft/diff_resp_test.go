package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// rawConn is a minimal RESP client for the differential tests: it sends a
// command as a multibulk and returns the raw bytes of exactly one reply, so
// two servers' answers can be compared byte for byte.
type rawConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

// dialRaw connects to addr.
func dialRaw(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &rawConn{addr: addr, c: c, r: bufio.NewReader(c)}, nil
}

// Close closes the connection.
func (rc *rawConn) Close() error { return rc.c.Close() }

// send writes args as one RESP multibulk command.
func (rc *rawConn) send(args []string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if _, err := rc.c.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write to %s: %w", rc.addr, err)
	}
	return nil
}

// recv reads one complete reply, waiting at most timeout, and returns its raw
// bytes.
func (rc *rawConn) recv(timeout time.Duration) ([]byte, error) {
	if err := rc.c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, fmt.Errorf("set read deadline: %w", err)
	}
	var out bytes.Buffer
	if err := readValue(rc.r, &out); err != nil {
		return out.Bytes(), fmt.Errorf("read from %s: %w", rc.addr, err)
	}
	return out.Bytes(), nil
}

// do sends args and reads the reply.
func (rc *rawConn) do(args []string, timeout time.Duration) ([]byte, error) {
	if err := rc.send(args); err != nil {
		return nil, err
	}
	return rc.recv(timeout)
}

// errProtocol marks a malformed reply.
var errProtocol = errors.New("protocol error")

// readLine reads one CRLF-terminated line, appends it (with CRLF) to out and
// returns it without the CRLF.
func readLine(r *bufio.Reader, out *bytes.Buffer) (string, error) {
	line, err := r.ReadString('\n')
	out.WriteString(line)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("%w: line %q not CRLF-terminated", errProtocol, line)
	}
	return line[:len(line)-2], nil
}

// readValue reads one RESP2/RESP3 value into out. An attribute (|) is read
// together with the value it annotates.
func readValue(r *bufio.Reader, out *bytes.Buffer) error {
	line, err := readLine(r, out)
	if err != nil {
		return err
	}
	if line == "" {
		return fmt.Errorf("%w: empty line", errProtocol)
	}
	typ, rest := line[0], line[1:]
	switch typ {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return fmt.Errorf("%w: bad length %q", errProtocol, line)
		}
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
		if !bytes.HasSuffix(buf, []byte("\r\n")) {
			return fmt.Errorf("%w: bulk not CRLF-terminated", errProtocol)
		}
		return nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return fmt.Errorf("%w: bad count %q", errProtocol, line)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readValue(r, out); err != nil {
				return err
			}
		}
		if typ == '|' {
			return readValue(r, out)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown type byte %q", errProtocol, typ)
}

// value is a parsed RESP reply, used where raw bytes cannot be compared
// directly (sorted arrays, shapes, SCAN).
type value struct {
	typ   byte
	str   string // line payload or bulk data
	elems []value
	null  bool
}

// parseValue parses one raw reply.
func parseValue(raw []byte) (value, error) {
	r := bufio.NewReader(bytes.NewReader(raw))
	v, err := parseFrom(r)
	if err != nil {
		return value{}, fmt.Errorf("parse %q: %w", raw, err)
	}
	return v, nil
}

func parseFrom(r *bufio.Reader) (value, error) {
	var sink bytes.Buffer
	line, err := readLine(r, &sink)
	if err != nil {
		return value{}, err
	}
	if line == "" {
		return value{}, fmt.Errorf("%w: empty line", errProtocol)
	}
	v := value{typ: line[0], str: line[1:]}
	switch v.typ {
	case '$', '=', '!':
		n, err := strconv.Atoi(v.str)
		if err != nil {
			return value{}, fmt.Errorf("%w: bad length %q", errProtocol, line)
		}
		if n < 0 {
			v.null, v.str = true, ""
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return value{}, err
		}
		v.str = string(buf[:n])
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(v.str)
		if err != nil {
			return value{}, fmt.Errorf("%w: bad count %q", errProtocol, line)
		}
		v.str = ""
		if n < 0 {
			v.null = true
			return v, nil
		}
		if v.typ == '%' || v.typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			e, err := parseFrom(r)
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
	}
	return v, nil
}

// encode renders v back to RESP bytes.
func (v value) encode(b *bytes.Buffer) {
	switch v.typ {
	case '$', '=', '!':
		if v.null {
			fmt.Fprintf(b, "%c-1\r\n", v.typ)
			return
		}
		fmt.Fprintf(b, "%c%d\r\n%s\r\n", v.typ, len(v.str), v.str)
	case '*', '~', '>', '%', '|':
		if v.null {
			fmt.Fprintf(b, "%c-1\r\n", v.typ)
			return
		}
		n := len(v.elems)
		if v.typ == '%' || v.typ == '|' {
			n /= 2
		}
		fmt.Fprintf(b, "%c%d\r\n", v.typ, n)
		for _, e := range v.elems {
			e.encode(b)
		}
	default:
		fmt.Fprintf(b, "%c%s\r\n", v.typ, v.str)
	}
}

// bytes renders v to RESP.
func (v value) bytes() []byte {
	var b bytes.Buffer
	v.encode(&b)
	return b.Bytes()
}

// sorted returns v with its top-level array elements sorted by their
// encoding (for KEYS, whose order is unspecified).
func (v value) sorted() value {
	elems := append([]value(nil), v.elems...)
	sort.Slice(elems, func(i, j int) bool {
		return string(elems[i].bytes()) < string(elems[j].bytes())
	})
	v.elems = elems
	return v
}

// shape describes v's types and lengths, without the values: "*2[$ :]".
func (v value) shape() string {
	var b strings.Builder
	v.writeShape(&b)
	return b.String()
}

func (v value) writeShape(b *strings.Builder) {
	b.WriteByte(v.typ)
	if v.null {
		b.WriteString("null")
		return
	}
	if v.typ == '-' {
		// Errors: keep the error code, which must match.
		code, _, _ := strings.Cut(v.str, " ")
		b.WriteString(code)
		return
	}
	if v.elems == nil && !strings.ContainsRune("*~>%|", rune(v.typ)) {
		return
	}
	fmt.Fprintf(b, "%d[", len(v.elems))
	for i, e := range v.elems {
		if i > 0 {
			b.WriteByte(' ')
		}
		e.writeShape(b)
	}
	b.WriteByte(']')
}

// readable makes a raw reply printable on one line with \r\n escaped.
func readable(raw []byte) string {
	q := strconv.Quote(string(raw))
	return q[1 : len(q)-1]
}
