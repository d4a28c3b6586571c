package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/streamraft/streamraft/cluster"
)

// Exit statuses of `streamraft check`.
const (
	checkOK      = 0 // every replica loads as it is
	checkDamaged = 1 // some file is damaged, or a replica could not be checked (in use)
	checkUsage   = 2 // bad flags or arguments, or no data dir
)

const checkUsageText = `Usage: streamraft check [--data-dir DIR]

Verifies a data dir offline: every replica's Raft log and stable store
(raft.db or wal/), its snapshots (checksums, and a restore into a throwaway
state machine) and that the snapshots and the log together hold its whole
state. Run it while no streamraft uses the data dir. Prints one block per
replica and the way out of any damage.

Exit status: 0 all good, 1 damage found (or a replica in use), 2 usage error.

Flags:
`

// runCheck is `streamraft check`: it returns the exit status.
func runCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("streamraft check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./data", "the data dir to verify (also "+envName("data-dir")+")")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsageText)
		fs.PrintDefaults()
	}
	if v := getenv(envName("data-dir")); v != "" {
		*dataDir = v
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return checkOK
		}
		return checkUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "streamraft check: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return checkUsage
	}
	rep, err := cluster.VerifyDataDir(*dataDir, cluster.VerifyOptions{Full: true})
	if err != nil {
		fmt.Fprintf(stderr, "streamraft check: %v\n", err)
		return checkUsage
	}
	printReport(stdout, rep)
	if !rep.OK() {
		return checkDamaged
	}
	return checkOK
}

// printReport writes one block per replica, then a summary line.
func printReport(w io.Writer, rep *cluster.DataDirReport) {
	fmt.Fprintf(w, "data dir %s\n", rep.Dir)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  DAMAGED %s: %s\n", p.Path, p.Reason)
		fmt.Fprintf(w, "  way out: the node refuses to start until it is restored from a backup or rewritten for the cluster's shard count\n")
	}
	var ok, damaged, inUse int
	for _, r := range rep.Replicas {
		fmt.Fprintln(w)
		switch {
		case r.InUse():
			inUse++
		case len(r.Problems) > 0:
			damaged++
		default:
			ok++
		}
		printReplica(w, r)
	}
	fmt.Fprintf(w, "\n%d %s: %d OK, %d damaged, %d in use\n", len(rep.Replicas), plural(len(rep.Replicas), "replica", "replicas"), ok, damaged, inUse)
}

func printReplica(w io.Writer, r *cluster.ReplicaReport) {
	name := "meta group"
	if r.Kind == cluster.ReplicaShard {
		name = "shard " + r.ID
	}
	state := "OK"
	switch {
	case r.InUse():
		state = "IN USE"
	case len(r.Problems) > 0:
		state = "DAMAGED"
	}
	fmt.Fprintf(w, "%s (%s): %s\n", name, r.Dir, state)
	if r.InUse() {
		fmt.Fprintf(w, "  %s\n  way out: stop the streamraft that uses this data dir, then check again\n", r.Problems[0])
		return
	}
	if r.LogStore != "" {
		fmt.Fprintf(w, "  log (%s): %s, term %d, voters %s\n", r.LogStore, logRange(r), r.CurrentTerm, voters(r.Voters))
	} else {
		fmt.Fprintf(w, "  log: none\n")
	}
	for _, s := range r.Snapshots {
		what := "ok"
		if s.Restored {
			what = "ok, restored"
		}
		if !s.OK {
			what = "BAD: " + s.Reason
		}
		fmt.Fprintf(w, "  snapshot %s: index %d, term %d, %d bytes: %s\n", s.ID, s.Index, s.Term, s.Size, what)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s %s\n", strings.ToUpper(p.Kind.String()), p)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "  way out: %s\n", wayOut(r))
	}
}

// wayOut says what to do about a damaged replica.
func wayOut(r *cluster.ReplicaReport) string {
	if !r.Fatal() {
		var dirs []string
		for _, p := range r.Problems {
			if p.Move != "" {
				dirs = append(dirs, p.Move)
			}
		}
		return "move " + strings.Join(dirs, " and ") + " out of the replica; it then loads from an older snapshot and its log, losing nothing"
	}
	switch {
	case len(r.Voters) > 1:
		return fmt.Sprintf("the replica is one of %d voters (%s): the node rebuilds it from its peers when it starts", len(r.Voters), voters(r.Voters))
	case len(r.Voters) == 1:
		return fmt.Sprintf("this is the only copy (its one voter is %s): restore the data dir from a backup, or its data is lost", r.Voters[0])
	}
	return "its voters are unknown: if other nodes hold this replica, the node rebuilds it from them when it starts; otherwise restore it from a backup"
}

func logRange(r *cluster.ReplicaReport) string {
	if r.Entries == 0 {
		return "empty"
	}
	return fmt.Sprintf("entries %d-%d (%d)", r.FirstIndex, r.LastIndex, r.Entries)
}

func voters(ids []string) string {
	if len(ids) == 0 {
		return "unknown"
	}
	return strings.Join(ids, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
