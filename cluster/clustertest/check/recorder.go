package check

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Status is what became of a recorded operation.
type Status string

// The statuses of a Record.
const (
	// StatusInFlight: invoked and not completed yet.
	StatusInFlight Status = "in-flight"
	// StatusOK: the server answered; the Output is what it said.
	StatusOK Status = "ok"
	// StatusUnknown: the operation may or may not have taken effect (a
	// timeout, a lost connection, an UNCERTAIN error).
	StatusUnknown Status = "unknown"
	// StatusFailed: the operation certainly did not take effect (a
	// MOVED, TRYAGAIN or CLUSTERDOWN answer).
	StatusFailed Status = "failed"
)

// Record is one operation as the Recorder saw it. Times are nanoseconds on
// the Recorder's monotonic clock. Return is when the client got its answer
// or gave up, also for unknown outcomes: History, not the Record, makes
// those infinite.
type Record struct {
	Client int    `json:"client"`
	Input  Input  `json:"input"`
	Output Output `json:"output,omitzero"`
	Call   int64  `json:"call"`
	Return int64  `json:"return,omitempty"`
	Status Status `json:"status"`
}

// Counts says how many recorded operations ended each way.
type Counts struct {
	OK       int `json:"ok"`
	Unknown  int `json:"unknown"`
	Failed   int `json:"failed"`
	InFlight int `json:"in_flight"`
}

// Recorder collects a history from concurrent clients. The zero value is
// ready to use; its clock starts at the first Invoke.
type Recorder struct {
	mu      sync.Mutex
	start   time.Time
	records []Record
}

// NewRecorder returns a Recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now()}
}

// now returns the time since the clock started; r.mu must be held.
func (r *Recorder) now() int64 {
	if r.start.IsZero() {
		r.start = time.Now()
	}
	return int64(time.Since(r.start))
}

// Invoke records that client is about to send in. The caller must end the
// returned Pending with exactly one of Ok, Unknown or Fail.
func (r *Recorder) Invoke(client int, in Input) *Pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, Record{Client: client, Input: in, Call: r.now(), Status: StatusInFlight})
	return &Pending{r: r, i: len(r.records) - 1}
}

// Pending is an invoked operation waiting for its outcome.
type Pending struct {
	r *Recorder
	i int
}

// Ok records the server's answer. It keeps its own copy of out.Entries.
func (p *Pending) Ok(out Output) {
	out.Entries = slices.Clone(out.Entries)
	out.Unknown = false
	p.end(StatusOK, out)
}

// Unknown records that the operation may or may not have taken effect.
func (p *Pending) Unknown() { p.end(StatusUnknown, Output{}) }

// Fail records that the operation certainly did not take effect; History
// leaves it out.
func (p *Pending) Fail() { p.end(StatusFailed, Output{}) }

func (p *Pending) end(st Status, out Output) {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := &r.records[p.i]
	if rec.Status != StatusInFlight {
		panic(fmt.Sprintf("check: %s by client %d ended twice, %s then %s", rec.Input, rec.Client, rec.Status, st))
	}
	rec.Status, rec.Output, rec.Return = st, out, r.now()
}

// Records returns a copy of everything recorded so far, in call order.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

// Counts counts the records by status.
func (r *Recorder) Counts() Counts { return CountRecords(r.Records()) }

// Operations returns the porcupine history of what was recorded so far;
// see History.
func (r *Recorder) Operations() []porcupine.Operation { return History(r.Records()) }

// WriteJSON writes the raw records and their counts to path, indented, for
// a person to read or for ReadJSON to load and check again.
func (r *Recorder) WriteJSON(path string) error {
	recs := r.Records()
	b, err := json.MarshalIndent(dump{Counts: CountRecords(recs), Records: recs}, "", "  ")
	if err != nil {
		return fmt.Errorf("write history %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write history %s: %w", path, err)
	}
	return nil
}

type dump struct {
	Counts  Counts   `json:"counts"`
	Records []Record `json:"records"`
}

// ReadJSON loads the records a WriteJSON wrote.
func ReadJSON(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	var d dump
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return d.Records, nil
}

// CountRecords counts records by status.
func CountRecords(recs []Record) Counts {
	var c Counts
	for _, rec := range recs {
		switch rec.Status {
		case StatusOK:
			c.OK++
		case StatusUnknown:
			c.Unknown++
		case StatusFailed:
			c.Failed++
		default:
			c.InFlight++
		}
	}
	return c
}

// History turns records into a porcupine history for Check. Answered
// operations keep their times and output. A write of unknown outcome, or
// one still in flight, returns at Infinity with an Unknown output that the
// model accepts whether the write took effect or not. Reads of unknown
// outcome tell nothing and failed operations had no effect: both are left
// out.
func History(recs []Record) []porcupine.Operation {
	ops := make([]porcupine.Operation, 0, len(recs))
	for _, rec := range recs {
		op := porcupine.Operation{ClientId: rec.Client, Input: rec.Input, Call: rec.Call, Output: rec.Output, Return: rec.Return}
		switch {
		case rec.Status == StatusOK:
		case rec.Status == StatusFailed || !rec.Input.Op.isWrite():
			continue
		default:
			op.Output, op.Return = Output{Unknown: true}, Infinity
		}
		ops = append(ops, op)
	}
	return ops
}
