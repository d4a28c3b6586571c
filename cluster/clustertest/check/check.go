package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Result is the verdict of Check on a history.
type Result struct {
	// Outcome is porcupine's verdict on the whole history: Ok,
	// Illegal (some key is not linearizable) or Unknown (the timeout
	// expired before any key was found illegal or all were proven).
	Outcome porcupine.CheckResult
	// Keys has one entry per stream key in the history, sorted by key.
	Keys []KeyResult

	model porcupine.Model
	info  porcupine.LinearizationInfo
}

// KeyResult is the verdict on the operations of one stream key.
type KeyResult struct {
	Key     string
	Outcome porcupine.CheckResult
	// Ops is the number of operations on the key that were checked;
	// Linearized the length of the longest linearizable prefix found, Ops
	// when Outcome is Ok.
	Ops, Linearized int
	// Unseen counts writes of unknown outcome that no read shows and no
	// XLEN can have counted: they were left out, as never applied.
	Unseen int
}

// Ok reports whether the history was proven linearizable.
func (r Result) Ok() bool { return r.Outcome == porcupine.Ok }

// Illegal reports whether the history was proven not linearizable.
func (r Result) Illegal() bool { return r.Outcome == porcupine.Illegal }

// String says the verdict and, for each key that is not Ok, how far the
// checker got.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d keys", r.Outcome, len(r.Keys))
	for _, k := range r.Keys {
		if k.Outcome != porcupine.Ok {
			fmt.Fprintf(&b, "; %q %s after %d of %d ops", k.Key, k.Outcome, k.Linearized, k.Ops)
		}
	}
	return b.String()
}

// Visualize writes porcupine's HTML view of the history to path: each key's
// operations on a time line with the longest linearizations found, and the
// model's state after each step. It works on any Result; it helps most
// when the history is not linearizable.
func (r Result) Visualize(path string) error {
	if r.model.Step == nil {
		return fmt.Errorf("visualize %s: result did not come from Check", path)
	}
	if err := porcupine.VisualizePath(r.model, r.info, path); err != nil {
		return fmt.Errorf("visualize %s: %w", path, err)
	}
	return nil
}

// Check reports whether ops, a history of Input and Output values such as
// History returns, is linearizable for StreamModel. Keys are checked in
// parallel. A timeout of 0 means none; when it expires, keys not yet
// decided are Unknown.
func Check(ops []porcupine.Operation, timeout time.Duration) Result {
	model := StreamModel()
	ops, unseen := narrow(ops)
	keys, parts := partitionByKey(ops)
	start := time.Now()
	outcome, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	// porcupine tells one verdict for all keys. A key is Ok when some
	// linearization covers all of its operations; otherwise it is Illegal
	// if porcupine finished every key, which it did if it returned before
	// its timer could fire, and Unknown if the timer cut it short.
	finished := timeout <= 0 || time.Since(start) < timeout
	partials := info.PartialLinearizations()
	byKey := make(map[string]KeyResult, len(keys)+len(unseen))
	for key, n := range unseen {
		byKey[key] = KeyResult{Key: key, Outcome: porcupine.Ok, Unseen: n}
	}
	for i, key := range keys {
		k := KeyResult{Key: key, Ops: len(parts[i]), Unseen: unseen[key]}
		if i < len(partials) {
			for _, p := range partials[i] {
				k.Linearized = max(k.Linearized, len(p))
			}
		}
		switch {
		case k.Linearized == k.Ops:
			k.Outcome = porcupine.Ok
		case outcome == porcupine.Illegal && finished:
			k.Outcome = porcupine.Illegal
		default:
			k.Outcome = porcupine.Unknown
		}
		byKey[key] = k
	}
	res := Result{Outcome: outcome, model: model, info: info}
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		res.Keys = append(res.Keys, byKey[key])
	}
	return res
}

// partitionByKey splits ops by stream key, keys sorted, each part in
// history order.
func partitionByKey(ops []porcupine.Operation) ([]string, [][]porcupine.Operation) {
	byKey := make(map[string][]porcupine.Operation)
	for _, op := range ops {
		key := asInput(op.Input).Key
		byKey[key] = append(byKey[key], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		parts[i] = byKey[k]
	}
	return keys, parts
}
