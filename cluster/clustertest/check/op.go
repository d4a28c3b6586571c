package check

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op names a stream command the model knows.
type Op uint8

// The commands of the model. The zero Op is invalid, so a forgotten field
// shows up as a bad operation instead of a silent XADD.
const (
	OpXAdd   Op = iota + 1 // XADD key * payload
	OpXRange               // XRANGE key - +
	OpXLen                 // XLEN key
	OpXRead                // XREAD COUNT n STREAMS key after
)

var opNames = [...]string{OpXAdd: "XADD", OpXRange: "XRANGE", OpXLen: "XLEN", OpXRead: "XREAD"}

// String returns the command name, such as "XADD".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText returns the command name.
func (o Op) MarshalText() ([]byte, error) {
	if int(o) >= len(opNames) || opNames[o] == "" {
		return nil, fmt.Errorf("marshal op: unknown op %d", o)
	}
	return []byte(opNames[o]), nil
}

// UnmarshalText parses a command name.
func (o *Op) UnmarshalText(b []byte) error {
	for i, name := range opNames {
		if name != "" && strings.EqualFold(name, string(b)) {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("unmarshal op: unknown op %q", b)
}

// isWrite reports whether the op changes the stream.
func (o Op) isWrite() bool { return o == OpXAdd }

// Input is one client request, the Input of a porcupine.Operation.
type Input struct {
	Op      Op     `json:"op"`
	Key     string `json:"key"`
	Payload string `json:"payload,omitempty"` // OpXAdd; unique in a test
	After   ID     `json:"after,omitzero"`    // OpXRead: entries after this ID; 0-0 reads from the start
	Count   int    `json:"count,omitempty"`   // OpXRead: at most this many; 0 or less means no limit
}

// XAdd is "XADD key * payload".
func XAdd(key, payload string) Input { return Input{Op: OpXAdd, Key: key, Payload: payload} }

// XRange is "XRANGE key - +".
func XRange(key string) Input { return Input{Op: OpXRange, Key: key} }

// XLen is "XLEN key".
func XLen(key string) Input { return Input{Op: OpXLen, Key: key} }

// XRead is "XREAD COUNT count STREAMS key after"; a count of 0 or less
// leaves COUNT out.
func XRead(key string, after ID, count int) Input {
	return Input{Op: OpXRead, Key: key, After: after, Count: count}
}

// Infinity is the return time History gives writes of unknown outcome:
// after every other operation, so the checker may place their effect
// anywhere after their call, or after everything, which is the same as
// never.
const Infinity int64 = math.MaxInt64

// Entry is one stream entry as a read returns it.
type Entry struct {
	ID      ID     `json:"id"`
	Payload string `json:"payload"`
}

// Output is the answer to an Input, the Output of a porcupine.Operation.
// Only the field of the Input's op is meaningful.
type Output struct {
	ID      ID      `json:"id,omitzero"`      // OpXAdd: the ID the server assigned
	Entries []Entry `json:"entries,omitzero"` // OpXRange, OpXRead
	Len     int     `json:"len,omitempty"`    // OpXLen

	// Unknown marks a write whose outcome the client never learned. History
	// sets it, together with an infinite return time; the model then lets
	// the write take effect at any point after its call, including never.
	// Check may fill ID in from a read that shows the write.
	Unknown bool `json:"-"`

	// Set by narrow, to help the model: no read shows this write; the
	// hash of an XRANGE's Entries; the ID of the write before this one.
	unseen  bool
	summed  bool
	sum     uint64
	ordered bool
	pred    ID
}

// payloadKey names a payload in a key; payloads are unique in a test.
type payloadKey struct {
	key, payload string
}

// describeLimit bounds how many entries a description lists.
const describeLimit = 12

// payloadLimit bounds how much of a payload a description shows.
const payloadLimit = 16

func shortPayload(p string) string {
	if len(p) <= payloadLimit {
		return p
	}
	return p[:payloadLimit-3] + "..."
}

func (in Input) String() string {
	switch in.Op {
	case OpXAdd:
		return fmt.Sprintf("XADD %s %s", in.Key, shortPayload(in.Payload))
	case OpXRange:
		return "XRANGE " + in.Key
	case OpXLen:
		return "XLEN " + in.Key
	case OpXRead:
		if in.Count > 0 {
			return fmt.Sprintf("XREAD COUNT %d %s %s", in.Count, in.Key, in.After)
		}
		return fmt.Sprintf("XREAD %s %s", in.Key, in.After)
	}
	return fmt.Sprintf("%s %s", in.Op, in.Key)
}

// describeEntries lists entries as "5-0 payload", eliding a long middle.
func describeEntries(es []Entry) string {
	items := make([]string, len(es))
	for i, e := range es {
		items[i] = e.ID.String() + " " + shortPayload(e.Payload)
	}
	return describeList(items)
}

// describeList joins items as "[a, b, c]"; past describeLimit items it
// keeps the first few and the last ones, which is where reads differ.
func describeList(items []string) string {
	if len(items) > describeLimit {
		const head = 3
		tail := describeLimit - head
		elided := fmt.Sprintf("...%d more...", len(items)-head-tail)
		items = append(append(items[:head:head], elided), items[len(items)-tail:]...)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// describe renders "XADD k p -> 5-0" and the like, for visualizations.
func describe(in Input, out Output) string {
	if out.Unknown {
		if out.ID != (ID{}) {
			return in.String() + " -> ? (read as " + out.ID.String() + ")"
		}
		return in.String() + " -> ?"
	}
	switch in.Op {
	case OpXAdd:
		return in.String() + " -> " + out.ID.String()
	case OpXRange, OpXRead:
		return in.String() + " -> " + describeEntries(out.Entries)
	case OpXLen:
		return in.String() + " -> " + strconv.Itoa(out.Len)
	}
	return in.String()
}
