package check

import (
	"strings"
	"sync"

	"github.com/anishathalye/porcupine"
)

// op is an answered operation by client over [call, ret].
func op(client int, call, ret int64, in Input, out Output) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

// unknownAdd is an XADD of unknown outcome as History makes it.
func unknownAdd(client int, call int64, key, payload string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: XAdd(key, payload), Call: call, Output: Output{Unknown: true}, Return: Infinity}
}

// added is an XADD's answer.
func added(id string) Output { return Output{ID: MustParseID(id)} }

// length is an XLEN's answer.
func length(n int) Output { return Output{Len: n} }

// entries is a read's answer from "id payload" strings.
func entries(es ...string) Output {
	out := Output{Entries: []Entry{}}
	for _, e := range es {
		id, payload, _ := strings.Cut(e, " ")
		out.Entries = append(out.Entries, Entry{ID: MustParseID(id), Payload: payload})
	}
	return out
}

// id0 is the XREAD after-ID that reads from the start.
var id0 = ID{}

// fakeStream is a stream that is linearizable by construction: one mutex
// around a log. Ops take effect under the lock, between the Recorder's
// Invoke and the Pending's end.
type fakeStream struct {
	mu  sync.Mutex
	log []Entry
}

func (f *fakeStream) do(in Input) Output {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch in.Op {
	case OpXAdd:
		n := uint64(len(f.log)) + 1
		id := ID{Ms: n / 3, Seq: n % 3}
		f.log = append(f.log, Entry{ID: id, Payload: in.Payload})
		return Output{ID: id}
	case OpXLen:
		return Output{Len: len(f.log)}
	case OpXRange:
		return Output{Entries: append([]Entry{}, f.log...)}
	}
	out := Output{Entries: []Entry{}}
	for _, e := range f.log {
		if in.After.Less(e.ID) && (in.Count <= 0 || len(out.Entries) < in.Count) {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}
