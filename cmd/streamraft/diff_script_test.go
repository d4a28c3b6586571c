package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A diff script is a text file with one step per line. Blank lines and lines
// starting with # are ignored. A line is split with shell-like quoting as
// redis-cli does: "double quotes" understand \r \n \t \\ \" and \xHH,
// 'single quotes' are literal (\' for a quote).
//
// A line that does not start with @ is a command: it is sent on the current
// connection of both servers and the two raw replies must be byte-identical.
// Directives:
//
//	@resp 2              run this script only in RESP2 (or "3"); default: both
//	@conn N              switch to connection N (opened on first use, with the
//	                     run's protocol); connection 1 is the default
//	@proto N             send HELLO N on the current connection (replies are
//	                     not compared: their contents differ by design, only
//	                     their type must match)
//	@send CMD...         send CMD without reading its reply (blocking commands)
//	@recv                read the reply of the oldest @send on this connection
//	@blocked N           wait until N clients are blocked on each server
//	@sort CMD...         compare with the reply's top-level elements sorted
//	@scan ARGS...        run a full SCAN 0 ARGS... loop on each server and
//	                     compare the sorted set of keys (cursors differ)
//	@shape CMD...        compare only types, lengths and error codes
//	@ignore CMD...       send, check both replied, compare nothing
//	@elapsed D CMD...    like a command, and each reply must take >= D
//	@sleep D             sleep (only where a real timeout is what is tested)
//	@raw N BYTES         send BYTES (double-quoted, escapes allowed) as they
//	                     are, read N replies and compare them (inline
//	                     commands, pipelines, protocol errors; after a
//	                     "Protocol error" reply the connection is dropped)
//	@repeat N CMD...     run CMD N times, {i} in its arguments replaced by
//	                     1..N; every reply is compared
//	@expect RAW CMD...   streamraft must answer RAW (double-quoted, escapes
//	                     allowed); redis's reply is only logged. Used where
//	                     streamraft differs on purpose: say why in a comment.
//	                     Against a second redis the command is compared as usual.
type scriptStep struct {
	line int
	dir  string   // "" for a plain command, else the directive without @
	arg  string   // directive argument (N, D, RAW)
	cmd  []string // the command, if any
}

// directives maps each directive to how many leading arguments it takes
// before the command, and whether a command must follow.
var directives = map[string]struct {
	args    int
	withCmd bool
}{
	"resp": {1, false}, "conn": {1, false}, "proto": {1, false},
	"send": {0, true}, "recv": {0, false}, "blocked": {1, false},
	"sort": {0, true}, "scan": {0, false}, "shape": {0, true},
	"ignore": {0, true}, "elapsed": {1, true}, "sleep": {1, false},
	"expect": {1, true}, "repeat": {1, true}, "raw": {1, true},
}

// loadScript reads and parses one script file.
func loadScript(path string) ([]scriptStep, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open script: %w", err)
	}
	defer f.Close()
	var steps []scriptStep
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		step, err := parseStep(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", filepath.Base(path), n, err)
		}
		step.line = n
		steps = append(steps, step)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return steps, nil
}

// parseStep parses one non-comment line.
func parseStep(text string) (scriptStep, error) {
	toks, err := splitArgs(text)
	if err != nil {
		return scriptStep{}, err
	}
	if len(toks) == 0 {
		return scriptStep{}, fmt.Errorf("empty command")
	}
	if !strings.HasPrefix(toks[0], "@") {
		return scriptStep{cmd: toks}, nil
	}
	name := toks[0][1:]
	d, ok := directives[name]
	if !ok {
		return scriptStep{}, fmt.Errorf("unknown directive @%s", name)
	}
	rest := toks[1:]
	if len(rest) < d.args {
		return scriptStep{}, fmt.Errorf("@%s needs %d argument(s)", name, d.args)
	}
	step := scriptStep{dir: name}
	if d.args == 1 {
		step.arg, rest = rest[0], rest[1:]
	}
	if d.withCmd && len(rest) == 0 {
		return scriptStep{}, fmt.Errorf("@%s needs a command", name)
	}
	if !d.withCmd && name != "scan" && len(rest) > 0 {
		return scriptStep{}, fmt.Errorf("@%s takes no command", name)
	}
	step.cmd = rest
	return step, nil
}

// splitArgs splits a line like redis-cli's sdssplitargs.
func splitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		var tok strings.Builder
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			switch line[i] {
			case '"':
				n, err := readDoubleQuoted(line[i+1:], &tok)
				if err != nil {
					return nil, err
				}
				i += n + 1
			case '\'':
				n, err := readSingleQuoted(line[i+1:], &tok)
				if err != nil {
					return nil, err
				}
				i += n + 1
			default:
				tok.WriteByte(line[i])
				i++
			}
		}
		out = append(out, tok.String())
	}
}

// readDoubleQuoted reads up to and including the closing quote, writing the
// unescaped text; it returns the number of bytes consumed.
func readDoubleQuoted(s string, tok *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			return i + 1, nil
		}
		if c != '\\' || i+1 >= len(s) {
			tok.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			tok.WriteByte('\n')
		case 'r':
			tok.WriteByte('\r')
		case 't':
			tok.WriteByte('\t')
		case 'x':
			if i+2 >= len(s) {
				return 0, fmt.Errorf("short \\x escape")
			}
			b, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return 0, fmt.Errorf("bad \\x escape: %w", err)
			}
			tok.WriteByte(byte(b))
			i += 2
		default:
			tok.WriteByte(s[i])
		}
	}
	return 0, fmt.Errorf("unbalanced double quote")
}

// readSingleQuoted is readDoubleQuoted for '...'.
func readSingleQuoted(s string, tok *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			return i + 1, nil
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '\'':
			tok.WriteByte('\'')
			i++
		default:
			tok.WriteByte(s[i])
		}
	}
	return 0, fmt.Errorf("unbalanced single quote")
}
