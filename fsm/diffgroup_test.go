package fsm

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiffRedisGroups runs consumer-group scripts against a real
// redis-server and the Machine. Each command's stamp is the wall clock, as
// Redis's is. Replies are compared byte for byte, except the fields that
// hold times, whose values cannot match a second clock: XPENDING's idle,
// XINFO CONSUMERS's idle, XINFO STREAM FULL's seen-time and delivery times
// are set to 0 on both sides, and the 7.2 fields that Redis 7.0.15 lacks
// (XINFO CONSUMERS inactive, XINFO STREAM FULL active-time) are dropped from
// ours. Idle filters in the scripts are 0 or far from any elapsed time.
func TestDiffRedisGroups(t *testing.T) {
	rc := startRedis(t)
	for name, script := range groupScripts() {
		t.Run(name, func(t *testing.T) {
			m := New()
			rc.do(t, args("FLUSHALL"))
			for i, line := range script {
				diffStep(t, rc, m, time.Now().UnixMilli(), i, line)
				checkGroupInvariants(t, m)
			}
		})
	}
}

// timed reports replies that must be normalised before comparing: they
// carry times, or fields newer than Redis 7.0.15.
func timed(argv [][]byte) bool {
	switch strings.ToUpper(string(argv[0])) {
	case "XPENDING":
		return len(argv) > 3
	case "XGROUP":
		return len(argv) == 2 && strings.EqualFold(string(argv[1]), "help")
	case "XINFO":
		if len(argv) < 3 {
			return false
		}
		// XINFO STREAM always: ours carries Redis 8.6's idmp-* fields.
		sub := strings.ToUpper(string(argv[1]))
		return sub == "CONSUMERS" || sub == "STREAM"
	}
	return false
}

// rnode is a parsed RESP2 reply.
type rnode struct {
	head string // the first line without CRLF, e.g. "$3", ":5", "*2"
	body string // a bulk string's bytes
	kids []rnode
}

func parseRESP(r *bufio.Reader) rnode {
	line, _ := r.ReadString('\n')
	n := rnode{head: strings.TrimRight(line, "\r\n")}
	if n.head == "" {
		return n
	}
	k, _ := strconv.Atoi(n.head[1:])
	switch n.head[0] {
	case '$':
		if k >= 0 {
			buf := make([]byte, k+2)
			_, _ = r.Read(buf[:0])
			for got := 0; got < k+2; {
				c, err := r.Read(buf[got:])
				if err != nil {
					break
				}
				got += c
			}
			n.body = string(buf[:k])
		}
	case '*':
		for i := 0; i < k; i++ {
			n.kids = append(n.kids, parseRESP(r))
		}
	}
	return n
}

func (n rnode) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n rnode) write(b *strings.Builder) {
	if n.head[0] == '*' && !strings.HasPrefix(n.head, "*-") {
		b.WriteString("*" + strconv.Itoa(len(n.kids)) + "\r\n")
		for _, k := range n.kids {
			k.write(b)
		}
		return
	}
	b.WriteString(n.head + "\r\n")
	if n.head[0] == '$' && n.head != "$-1" {
		b.WriteString(n.body + "\r\n")
	}
}

var zeroInt = rnode{head: ":0"}

// normalizeTimes zeroes time fields in a RESP2 reply (see TestDiffRedisGroups);
// ours drops the 7.2-only fields.
func normalizeTimes(argv [][]byte, raw string, ours bool) string {
	n := parseRESP(bufio.NewReader(strings.NewReader(raw)))
	if n.head[0] != '*' {
		return raw
	}
	if strings.EqualFold(string(argv[0]), "xpending") {
		for i := range n.kids {
			if len(n.kids[i].kids) == 4 {
				n.kids[i].kids[2] = zeroInt
			}
		}
		return n.String()
	}
	if strings.EqualFold(string(argv[0]), "xgroup") {
		if ours && len(n.kids) >= len(dlqHelp) { // streamraft's SETDLQ lines
			n.kids = n.kids[:len(n.kids)-len(dlqHelp)]
		}
		return n.String()
	}
	return normalizeMap(n, ours).String()
}

// normalizeMap walks flat key/value arrays: zeroes idle and seen-time,
// drops inactive and active-time from ours, and zeroes delivery times in
// pending lists.
func normalizeMap(n rnode, ours bool) rnode {
	var out []rnode
	for i := 0; i < len(n.kids); i++ {
		k := n.kids[i]
		if k.head[0] == '$' && i+1 < len(n.kids) {
			switch k.body {
			case "idle", "seen-time":
				out = append(out, k, zeroInt)
				i++
				continue
			case "inactive", "active-time", "idmp-duration", "idmp-maxsize",
				"pids-tracked", "iids-tracked", "iids-added", "iids-duplicates":
				if ours {
					i++
					continue
				}
			case "pending":
				v := n.kids[i+1]
				for j := range v.kids {
					switch len(v.kids[j].kids) {
					case 4:
						v.kids[j].kids[2] = zeroInt
					case 3:
						v.kids[j].kids[1] = zeroInt
					}
				}
				out = append(out, k, v)
				i++
				continue
			}
		}
		if k.head[0] == '*' {
			k = normalizeMap(k, ours)
		}
		out = append(out, k)
	}
	n.kids = out
	return n
}

// checkGroupInvariants verifies that every group's PEL, consumer PELs and
// pending counts agree.
func checkGroupInvariants(t testing.TB, m *Machine) {
	t.Helper()
	for key, s := range m.keys {
		if s.groups == nil {
			continue
		}
		s.groups.Scan(func(g *group) bool {
			if g.pel.Len() != g.cpel.Len() {
				t.Fatalf("%s/%s: group PEL has %d entries; consumer PELs %d", key, g.name, g.pel.Len(), g.cpel.Len())
			}
			counts := map[string]int{}
			g.pel.Scan(func(n nack) bool {
				if _, ok := g.cpel.Get(cref{n.owner, n.id}); !ok {
					t.Fatalf("%s/%s: %v owned by %q is not in its consumer PEL", key, g.name, n.id, n.owner)
				}
				if _, ok := g.consumer(n.owner); !ok {
					t.Fatalf("%s/%s: %v owned by missing consumer %q", key, g.name, n.id, n.owner)
				}
				counts[n.owner]++
				return true
			})
			g.consumers.Scan(func(c consumer) bool {
				if c.pending != counts[c.name] {
					t.Fatalf("%s/%s: consumer %q pending %d; owns %d", key, g.name, c.name, c.pending, counts[c.name])
				}
				return true
			})
			return true
		})
	}
}

func groupScripts() map[string][]string {
	seed := []string{
		"XADD mystream 1-1 sensor 1 temp 20", "XADD mystream 1-2 sensor 2 temp 21",
		"XADD mystream 1-3 sensor 3 temp 22", "XADD mystream 1-4 sensor 4 temp 23",
		"XADD mystream 1-5 sensor 5 temp 24",
		"XGROUP CREATE mystream mygroup 0",
		"XREADGROUP GROUP mygroup Alice COUNT 1 STREAMS mystream >",
		"XREADGROUP GROUP mygroup Bob COUNT 2 STREAMS mystream >",
		"XPENDING mystream mygroup", "XPENDING mystream mygroup - + 10",
		"XPENDING mystream mygroup - + 10 Bob", "XPENDING mystream mygroup IDLE 3600000 - + 10",
		"XCLAIM mystream mygroup Alice 0 1-2 1-3", "XPENDING mystream mygroup",
		"XPENDING mystream mygroup - + 10 Alice", "XREADGROUP GROUP mygroup Alice STREAMS mystream 0",
		"XREADGROUP GROUP mygroup Bob STREAMS mystream 0",
		"XINFO GROUPS mystream", "XINFO CONSUMERS mystream mygroup", "XINFO STREAM mystream",
		"XINFO STREAM mystream FULL", "XACK mystream mygroup 1-1 1-2 9-9", "XPENDING mystream mygroup",
		"XREADGROUP GROUP mygroup Bob STREAMS mystream >", "XREADGROUP GROUP mygroup Bob STREAMS mystream >",
		"XINFO GROUPS mystream", "XINFO STREAM mystream FULL COUNT 1",
	}
	errs := []string{
		"XGROUP", "XGROUP FOO", "XGROUP FOO a b c", "XGROUP CREATE s", "XGROUP DESTROY s g x", "XGROUP HELP x",
		"XGROUP HELP", "XINFO", "XINFO FOO", "XINFO GROUPS", "XINFO GROUPS s x", "XINFO HELP",
		"XGROUP CREATE s g 0", "XGROUP CREATECONSUMER s g c", "XGROUP SETID s g 0", "XGROUP DESTROY s g",
		"XGROUP DELCONSUMER s g c", "XINFO STREAM s", "XINFO GROUPS s", "XINFO CONSUMERS s g",
		"XGROUP CREATE s g 0 MKSTREAM FOO", "XGROUP CREATE s g 0 ENTRIESREAD -2", "XGROUP CREATE s g 0 ENTRIESREAD x",
		"XGROUP CREATE s g 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "XGROUP CREATE s g x MKSTREAM",
		"XGROUP CREATE s g - MKSTREAM", "XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATE s g 5 MKSTREAM",
		"XINFO STREAM s", "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT", "XINFO STREAM s FOO",
		"XINFO STREAM s FULL COUNT x", "XINFO STREAM s FULL FOO 1", "XINFO CONSUMERS s nog", "XINFO GROUPS s",
		"XGROUP SETID s g 0 MKSTREAM", "XGROUP SETID s g 0 ENTRIESREAD 5 ENTRIESREAD 5", "XGROUP SETID s nog 0",
		"XGROUP SETID s g x", "XGROUP SETID s g + ENTRIESREAD 3", "XINFO GROUPS s", "XGROUP SETID s g -",
		"XGROUP CREATECONSUMER s nog c", "XGROUP CREATECONSUMER nokey g c", "XGROUP DESTROY nokey g",
		"XGROUP DESTROY s nog", "XGROUP DELCONSUMER s g zz", "XGROUP CREATE s g 0",
		"XREADGROUP STREAMS s >", "XREADGROUP GROUP g c STREAMS s", "XREADGROUP GROUP g c STREAMS s $",
		"XREADGROUP GROUP g c STREAMS s +", "XREADGROUP GROUP g c STREAMS nokey s $ x",
		"XREADGROUP GROUP g c STREAMS s nokey $ x", "XREADGROUP GROUP g c STREAMS s nokey > x",
		"XREADGROUP GROUP g c STREAMS s t >", "XREADGROUP GROUP g c BLOCK -1 STREAMS s >",
		"XREADGROUP GROUP g c BLOCK x STREAMS s >", "XREADGROUP GROUP g c FOO STREAMS s >",
		"XREADGROUP GROUP g c COUNT x STREAMS s >", "XREADGROUP COUNT 1 NOACK BLOCK 5 STREAMS s >",
		"XREADGROUP GROUP g c STREAMS s 1-x", "XREADGROUP GROUP g c STREAMS s >", "XREADGROUP GROUP g c STREAMS s 0",
		"XREADGROUP GROUP g c NOACK NOACK STREAMS s >", "XREADGROUP GROUP g c BLOCK 10 STREAMS s 0",
		"XPENDING s g", "XPENDING s g - + 10", "XPENDING s g - +", "XPENDING s g IDLE - + 10",
		"XPENDING s g IDLE 5 - +", "XPENDING s g x + 10", "XPENDING s g - + x", "XPENDING nokey g - + 10",
		"XPENDING nokey g", "XPENDING s nog", "XPENDING s g - + 10 c d e", "XPENDING s g (- + 10",
		"XPENDING s g (18446744073709551615-18446744073709551615 + 10", "XPENDING s g - (0 10",
		"XPENDING s g - + 10 nobody", "XPENDING s g a b c d e f g",
		"XCLAIM s g c x 1-1", "XCLAIM s g c 0 1-1 FOO", "XCLAIM s g c 0 1-1 IDLE x", "XCLAIM s g c 0 1-1 TIME x",
		"XCLAIM s g c 0 1-1 RETRYCOUNT x", "XCLAIM s g c 0 1-1 LASTID x", "XCLAIM nokey g c x 1-1",
		"XCLAIM s nog c 0 1-1", "XCLAIM s g c 0 FORCE", "XCLAIM s g c 0 1-1 IDLE", "XCLAIM s g c -5 1-1 JUSTID",
		"XAUTOCLAIM s g c 0 0 COUNT 0", "XAUTOCLAIM s g c 0 0 COUNT -1", "XAUTOCLAIM s g c 0 0 COUNT x",
		"XAUTOCLAIM s g c 0 0 COUNT 576460752303423487", "XAUTOCLAIM s g c 0 0 COUNT 576460752303423488",
		"XAUTOCLAIM s g c 0 0 COUNT 1000000", "XAUTOCLAIM s g c x 0", "XAUTOCLAIM s g c 0 x",
		"XAUTOCLAIM nokey g c 0 x", "XAUTOCLAIM nokey g c 0 0 FOO", "XAUTOCLAIM nokey g c 0 0",
		"XAUTOCLAIM s nog c 0 0", "XAUTOCLAIM s g c 0 (18446744073709551615-18446744073709551615",
		"XAUTOCLAIM s g c 0 0 COUNT", "XAUTOCLAIM s g c 0 0 JUSTID JUSTID",
		"XACK s g x", "XACK nokey g x", "XACK s nog x", "XACK s g 1-1 x", "XACK s g 1-1",
		"XINFO CONSUMERS s g", "XGROUP CREATECONSUMER s g c2", "XGROUP CREATECONSUMER s g c2",
		"XINFO CONSUMERS s g", "XGROUP DELCONSUMER s g c2", "XGROUP DESTROY s g", "XINFO GROUPS s",
		"xgroup create s G 0", "XINFO STREAM s", "XGROUP create s a $", "XGROUP CREATE s b 0 ENTRIESREAD 0",
		"XGROUP CREATE s B 0 ENTRIESREAD 9223372036854775807", "XGROUP CREATE s ab 0 MKSTREAM ENTRIESREAD -1",
		"XINFO GROUPS s", "XGROUP HELP", "XINFO HELP", "XINFO help",
	}
	deliver := cat(fill("s", 250, ""), []string{
		"XGROUP CREATE s g 0", "XGROUP CREATE s late $", "XGROUP CREATE s mid 12-5",
		"XINFO GROUPS s", "XINFO STREAM s",
		"XREADGROUP GROUP g a COUNT 7 STREAMS s >", "XREADGROUP GROUP g b COUNT 3 NOACK STREAMS s >",
		"XREADGROUP GROUP mid a COUNT 2 STREAMS s >", "XINFO GROUPS s",
		"XDEL s 1-5 1-9 2-0 3-3", "XINFO GROUPS s", "XINFO STREAM s",
		"XREADGROUP GROUP g a STREAMS s 0", "XREADGROUP GROUP g a COUNT 2 STREAMS s 1-5",
		"XREADGROUP GROUP g a COUNT 5 STREAMS s >", "XINFO GROUPS s", "XPENDING s g",
		"XPENDING s g - + 100 a", "XGROUP SETID s g 1-2", "XREADGROUP GROUP g c COUNT 4 STREAMS s >",
		"XPENDING s g - + 100", "XINFO GROUPS s", "XINFO CONSUMERS s g",
		"XTRIM s MAXLEN 100", "XINFO GROUPS s", "XINFO STREAM s", "XREADGROUP GROUP g a STREAMS s 0",
		"XREADGROUP GROUP late z STREAMS s >", "XADD s 26-0 n 1", "XREADGROUP GROUP late z STREAMS s >",
		"XINFO GROUPS s", "XREADGROUP GROUP mid a COUNT 1000 STREAMS s >", "XINFO GROUPS s",
		"XGROUP SETID s mid 0 ENTRIESREAD 0", "XINFO GROUPS s", "XGROUP SETID s mid $", "XINFO GROUPS s",
		"XDEL s 26-0", "XINFO GROUPS s", "XINFO STREAM s",
		"XREADGROUP GROUP g a COUNT 3 STREAMS s s > 0", "XREADGROUP GROUP g a STREAMS s >",
		"XGROUP DELCONSUMER s g a", "XPENDING s g", "XGROUP DESTROY s g", "XINFO GROUPS s",
		"XINFO STREAM s FULL COUNT 3",
	})
	claims := cat(fill("s", 40, ""), []string{
		"XGROUP CREATE s g 0", "XREADGROUP GROUP g a COUNT 10 STREAMS s >",
		"XREADGROUP GROUP g b COUNT 10 STREAMS s >",
		"XDEL s 1-2 2-3", "XCLAIM s g c 0 1-1 1-2 1-3 9-9 3-0", "XPENDING s g - + 100",
		"XCLAIM s g c 3600000 1-4 1-5", "XCLAIM s g c 0 1-4 JUSTID", "XCLAIM s g c 0 1-5 RETRYCOUNT 7",
		"XCLAIM s g c 0 3-1 3-2 FORCE", "XCLAIM s g c 0 3-3 FORCE JUSTID", "XCLAIM s g c 0 1-2 FORCE",
		"XPENDING s g - + 100", "XCLAIM s g d 0 1-6 IDLE 7200000", "XPENDING s g IDLE 3600000 - + 10",
		"XCLAIM s g d 0 1-7 TIME 1", "XCLAIM s g d 0 1-8 LASTID 30-0", "XINFO GROUPS s",
		"XCLAIM s g d 0 1-9 LASTID 1-0", "XINFO GROUPS s", "XINFO CONSUMERS s g",
		"XAUTOCLAIM s g e 0 0 COUNT 3", "XAUTOCLAIM s g e 0 1-5 COUNT 2 JUSTID",
		"XDEL s 2-0 2-1 2-2", "XAUTOCLAIM s g e 0 0", "XPENDING s g", "XAUTOCLAIM s g e 3600000 0",
		"XAUTOCLAIM s g e 0 (1-7 COUNT 1", "XAUTOCLAIM s g f 0 - COUNT 1", "XAUTOCLAIM s g f 0 - COUNT 100",
		"XDEL s 3-1 3-2 3-3", "XAUTOCLAIM s g f 0 0 COUNT 1", "XAUTOCLAIM s g f 0 0 COUNT 1",
		"XPENDING s g - + 100", "XPENDING s g - + 100 f", "XINFO CONSUMERS s g",
		"XACK s g 1-1 1-3 1-4 1-5", "XPENDING s g", "XINFO STREAM s FULL",
	})
	autoscan := cat(fill("s", 60, ""), []string{
		"XGROUP CREATE s g 0", "XREADGROUP GROUP g a STREAMS s >",
		"XAUTOCLAIM s g b 3600000 0 COUNT 2", "XAUTOCLAIM s g b 0 0 COUNT 2", "XAUTOCLAIM s g b 3600000 0 COUNT 100",
		"XDEL s 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 2-0 2-1 2-2 2-3 2-4 2-5 2-6 2-7 2-8 2-9 3-0 3-1 3-2",
		"XAUTOCLAIM s g b 0 0 COUNT 2", "XAUTOCLAIM s g b 0 0 COUNT 1", "XPENDING s g",
		"XAUTOCLAIM s g b 0 6-8 COUNT 5", "XAUTOCLAIM s g b 0 6-9", "XAUTOCLAIM s g b 0 7",
	})
	lifecycle := []string{
		"XADD s 1-1 a b", "XGROUP CREATE s g $", "XREADGROUP GROUP g c STREAMS s >", "XADD s 1-2 a b",
		"XREADGROUP GROUP g c STREAMS s >", "DEL s", "XREADGROUP GROUP g c STREAMS s >", "XADD s 1-3 a b",
		"XINFO GROUPS s", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >", "FLUSHALL",
		"XPENDING s g", "XGROUP CREATE e g $ MKSTREAM", "XINFO STREAM e", "XINFO GROUPS e",
		"XREADGROUP GROUP g c STREAMS e >", "XREADGROUP GROUP g c STREAMS e 0", "XINFO CONSUMERS e g",
		"XADD e 5-5 x y", "XDEL e 5-5", "XINFO GROUPS e", "XINFO STREAM e", "XREADGROUP GROUP g c STREAMS e >",
		"XADD e 6-0 x y", "XREADGROUP GROUP g c STREAMS e >", "XDEL e 6-0", "XREADGROUP GROUP g c STREAMS e 0",
		"XINFO GROUPS e", "XINFO STREAM e FULL", "XGROUP CREATE e h 0", "XINFO GROUPS e",
		"EXISTS e", "TYPE e", "XLEN e",
	}
	return map[string][]string{
		"seed": seed, "errors": errs, "deliver": deliver, "claims": claims, "autoscan": autoscan,
		"lifecycle": lifecycle, "bigstream": cat(fill("b", 1000, ""), []string{"XINFO STREAM b", "XDEL b 1-0 50-0",
			"XTRIM b MAXLEN ~ 500", "XINFO STREAM b", "XGROUP CREATE b g 0", "XINFO GROUPS b"}),
	}
}
