// Package check judges histories that fault tests record against a
// running cluster. It knows nothing of the cluster: it takes what clients
// saw, with real times, and says whether that is what Redis Streams
// replicated through one Raft log may show.
//
// # Linearizability
//
// A Recorder collects operations from concurrent clients: Invoke before
// sending, then Ok, Unknown or Fail on the returned Pending. History turns
// the records into a porcupine history and Check decides, with porcupine,
// whether some order of the operations, each placed between its call and
// its return, is a run of StreamModel:
//
//   - each key is an append-only log of (ID, payload) entries, checked on
//     its own (porcupine partitions by key);
//   - XADD appends its payload; an answered XADD's ID must exceed every ID
//     before it (IDs compare by ms, then seq);
//   - XRANGE must return the whole log, XLEN its length, and
//     XREAD COUNT n STREAMS key after the first n entries whose ID is
//     greater than after.
//
// Payloads must be unique in a test (the workload makes them so); reads
// are compared by payload, so a payload read twice, or one that no XADD
// wrote, cannot match.
//
// # Unknown outcomes
//
// A write whose answer never came (timeout, lost connection, UNCERTAIN
// error) may or may not have taken effect. History gives it the standard
// porcupine treatment: an infinite return time and an output the model
// always accepts. The checker may then place it anywhere after its call;
// placing it after every other operation is how "never took effect" is
// expressed. A read of unknown outcome tells nothing and is left out, as
// is any operation that Failed (a redirect: certainly not applied).
//
// The ID of an entry whose XADD has an unknown outcome is unknown until a
// read shows it. The model keeps such an entry with no ID and an upper
// bound, fills the ID in from the first XRANGE or XREAD that returns it
// (so Step's new state depends on the read's output, and Equal compares
// learned IDs and bounds, which porcupine's cache needs), and checks at
// every step that some assignment of the remaining unknown IDs keeps all
// IDs strictly increasing. An answered XADD after unknown entries is
// accepted if such an assignment exists.
//
// XREAD and unknown IDs: the entries after an ID form a suffix of the log,
// and an unknown ID can make where that suffix starts ambiguous. The model
// lets the read decide: it is accepted iff some assignment of the unknown
// IDs makes the selection rule return exactly what it returned. It then
// keeps what the read implies: the IDs it showed, and that the entry just
// before its first entry (the last entry, if it returned nothing) has an
// ID of at most after, a bound later steps must respect.
//
// # Narrowing, and what a workload should do
//
// Left at [call, infinity], each unknown write is a candidate at every
// step of porcupine's search, and a few dozen of them, or a read whose
// client stalled before recording the answer, make the search explode.
// Before searching, Check cuts every operation's interval down to where
// the others allow it to take effect (narrow.go has the rules, with why
// each keeps the verdict exact): an unknown write that a read shows gets
// that read's ID and return, one that no read shows is left out as never
// applied unless an XLEN may have counted it, every operation is placed
// between the writes whose IDs bound what it saw, and each write may only
// follow the write of the next lower ID. On this project's 2-core machine
// a history of 28,000 operations by 32 clients on one key checks in about
// 6 s, one of 14,000 by 16 clients in about 1 s. Two habits keep it so:
// end each workload, after every client stopped, with an XRANGE of each
// key (it shows every write that took effect, so the others cost
// nothing), and give Check a timeout: a search it cuts short reports
// Unknown, never Ok.
//
// # Work queues
//
// CheckQueue is a plain function over what consumer-group clients saw:
// acknowledged and unknown XADDs, deliveries (XREADGROUP, XCLAIM,
// XAUTOCLAIM), successful XACKs and the final stream and pending lists. It
// reports lost, invented and duplicated writes and entries still pending
// after an XACK; redeliveries are counted, not flagged, since claiming is
// how a work queue recovers from a dead consumer.
package check
