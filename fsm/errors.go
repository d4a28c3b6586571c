package fsm

import "strings"

// Error texts, byte-identical to Redis 7.0.15 (see REDIS.md §1).
const (
	errSyntax        = "ERR syntax error"
	errNotInt        = "ERR value is not an integer or out of range"
	errInvalidID     = "ERR Invalid stream ID specified as stream command argument"
	errNoSuchKey     = "ERR no such key"
	errXAddSmaller   = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errXAddZero      = "ERR The ID specified in XADD must be greater than 0-0"
	errXAddExhausted = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errXAddTooLarge  = "ERR Elements are too large to be stored"
	errMaxlenNeg     = "ERR The MAXLEN argument must be >= 0."
	errLimitNeg      = "ERR The LIMIT argument must be >= 0."
	errMaxlenMinid   = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	errLimitNoApprox = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	errLimitNoStrat  = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	errXTrimNoStrat  = "ERR syntax error, XTRIM must be called with a trimming strategy"
	errInvalidStart  = "ERR invalid start ID for the interval"
	errInvalidEnd    = "ERR invalid end ID for the interval"
	errUnbalanced    = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
	errGroupInXRead  = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
	errNoAckInXRead  = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
	errGtInXRead     = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	errTimeoutNeg    = "ERR timeout is negative"
	errTimeoutNotInt = "ERR timeout is not an integer or out of range"
	errSetIDSmaller  = "ERR The ID specified in XSETID is smaller than the target stream top item"
	errSetIDAdded    = "ERR The entries_added specified in XSETID is smaller than the target stream length"
	errSetIDMaxDel   = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
	errSetIDAddedNeg = "ERR entries_added must be positive"
	errInvalidCursor = "ERR invalid cursor"
)

// XREAD / XREADGROUP MAXCOUNT and MAXSIZE errors (Redis 8.10). The MAXCOUNT
// text is Redis's (its tests match "MAXCOUNT must be a positive integer");
// the MAXSIZE one follows it by symmetry and the COUNT comparison text is a
// guess: the 8.10 source was not available.
const (
	errMaxCount           = "ERR MAXCOUNT must be a positive integer"
	errMaxSize            = "ERR MAXSIZE must be a positive integer"
	errMaxCountBelowCount = "ERR MAXCOUNT must be greater than or equal to COUNT"
)

// errArity is Redis's wrong-arity error for the (lower-case) command name.
func errArity(name string) Reply {
	return Err("ERR wrong number of arguments for '" + name + "' command")
}

// errUnknown is Redis's unknown-command error: the name and up to 128 bytes
// of arguments, each quoted and followed by a space, newlines turned to
// spaces.
func errUnknown(argv [][]byte) Reply {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.Write(clip(cstr(argv[0]), 128))
	b.WriteString("', with args beginning with: ")
	args := 0
	for _, a := range argv[1:] {
		if args >= 128 {
			break
		}
		a = clip(cstr(a), 128-args)
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		args += len(a) + 3
	}
	out := []byte(b.String())
	for i, c := range out {
		if c == '\r' || c == '\n' {
			out[i] = ' '
		}
	}
	return Err(string(out))
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Consumer-group error texts (Redis 7.0.15).
const (
	errMissingGroup  = "ERR Missing GROUP option for XREADGROUP"
	errDollarInGroup = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read " +
		"the history of this consumer by specifying a proper ID, or use the > ID to get new messages. " +
		"The $ ID would just return an empty result set."
	errBlockedNoKey   = "UNBLOCKED the stream key no longer exists"
	errBlockedNoGroup = "NOGROUP the consumer group this client was blocked on no longer exists"
	errBusyGroup      = "BUSYGROUP Consumer Group name already exists"
	errEntriesReadNeg = "ERR value for ENTRIESREAD must be positive or -1"
	errClaimMinIdle   = "ERR Invalid min-idle-time argument for XCLAIM"
	errClaimIdle      = "ERR Invalid IDLE option argument for XCLAIM"
	errClaimTime      = "ERR Invalid TIME option argument for XCLAIM"
	errClaimRetry     = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
	errAutoMinIdle    = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
	errAutoCount      = "ERR COUNT must be > 0"
	errAutoMemory     = "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
	errXGroupNoKey    = "ERR The XGROUP subcommand requires the key to exist. " +
		"Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
)

// errNoGroupKey is the NOGROUP error of XPENDING, XCLAIM and XAUTOCLAIM.
func errNoGroupKey(key, grp []byte) Reply {
	return Err("NOGROUP No such key '" + string(cstr(key)) + "' or consumer group '" + string(cstr(grp)) + "'")
}

// errNoGroupName is the NOGROUP error of XGROUP and XINFO CONSUMERS.
func errNoGroupName(grp, key []byte) Reply {
	return Err("NOGROUP No such consumer group '" + string(cstr(grp)) + "' for key name '" + string(cstr(key)) + "'")
}
