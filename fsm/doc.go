// Package fsm is streamraft's deterministic state machine: the keyspace of
// Redis streams and the execution of Redis commands on it.
//
// The Raft layer decodes a log Entry and calls Machine.Apply, which runs
// every request in order and returns one Reply per request plus the keys
// whose blocked readers should retry. Reads that need no log entry go
// through Machine.Read. Validate rejects, before proposing, every command
// whose error does not depend on state, so garbage never enters the log.
//
// Everything here is a pure function of the state and the entry: the only
// clock is Entry.Stamp (the leader's milliseconds), iteration orders are
// defined, and the package imports neither Raft, nor the network, nor any
// randomness (purity_test.go enforces it). Replies are byte-identical to
// Redis 7.0.15 once rendered by the resp package (diff_test.go checks this
// against a real redis-server when one is installed).
//
// Replies may alias memory the machine or the request owns: bulk strings of
// stream entries point into immutable block bytes, and key names in XREAD
// replies point into argv. Neither is ever modified afterwards.
//
// See DESIGN.md for the storage layout, snapshots and KeyVersion.
package fsm
