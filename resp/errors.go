package resp

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Redis 7.0's exact error texts. Every error string the server writes lives
// here (fsm errors arrive already worded); errors_test.go pins the bytes.
const (
	errMaxClients       = "ERR max number of clients reached"
	errExecAbort        = "EXECABORT Transaction discarded because of previous errors."
	errExecAbortBecause = "EXECABORT Transaction discarded because of: "
	errExecNoMulti      = "ERR EXEC without MULTI"
	errDiscardNoMulti   = "ERR DISCARD without MULTI"
	errMultiNested      = "ERR MULTI calls can not be nested"
	errWatchInMulti     = "ERR WATCH inside MULTI is not allowed"
	errSyntax           = "ERR syntax error"
	errNotInteger       = "ERR value is not an integer or out of range"
	errSelectCluster    = "ERR SELECT is not allowed in cluster mode"
	errDBRange          = "ERR DB index is out of range"
	errNoProto          = "NOPROTO unsupported protocol version"
	errProtoNotInt      = "ERR Protocol version is not an integer or out of range"
	errAuthNoPassword   = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errWrongPass        = "WRONGPASS invalid username-password pair or user is disabled."
	errClientName       = "ERR Client names cannot contain spaces, newlines or special characters."
	errNoSuchClient     = "ERR No such client"
	errTimeoutNegative  = "ERR timeout is negative"
	errInvalidCommand   = "ERR Invalid command specified"
	errGetkeysArgs      = "ERR Invalid number of arguments specified for command"
	errGetkeysNoKeys    = "ERR The command has no key arguments"
	errGetkeysInvalid   = "ERR Invalid arguments specified for command"
	errClusterDown      = "CLUSTERDOWN The cluster is down"
	// errUncertain is streamraft's own: its prefix is one no Redis client
	// retries by itself (go-redis, redis-py, ioredis retry MOVED, ASK,
	// TRYAGAIN, CLUSTERDOWN, LOADING, READONLY and MASTERDOWN).
	errUncertain        = "UNCERTAIN the shard's leader changed before this write was known to be committed: it may or may not have been applied"
	errImmutableConfig  = "can't set immutable config"
	errConfigNotInt     = "argument couldn't be parsed into an integer"
	errConfigDup        = "duplicate parameter"
	errClientID         = "ERR Invalid client ID"
	errClientIDPositive = "ERR client-id should be greater than 0"
	errTimeoutNotInt    = "ERR timeout is not an integer or out of range"
	errArityPrefix      = "ERR wrong number of arguments"
	errExecReplyMissing = "ERR transaction reply missing"
	errUnknownKind      = "ERR internal error: unknown reply kind "
	errCrossSlot        = "CROSSSLOT Keys in request don't hash to the same slot"
	errInvalidSlot      = "ERR Invalid slot"
	errInvalidSlotCount = "ERR Invalid slot or number of keys"
	errInvalidCursor    = "ERR invalid cursor"
)

func errProtocol(e *ProtocolError) string { return "ERR " + e.Error() }

func errClientType(t []byte) string { return fmt.Sprintf("ERR Unknown client type '%s'", t) }

// errClientAttr is Redis 7.2's CLIENT SETINFO refusal of a bad value.
func errClientAttr(attr string) string {
	return fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", attr)
}

func errUnknownCommand(argv [][]byte) string {
	var args []byte
	for _, a := range argv[1:] {
		if len(args) >= 128 {
			break
		}
		args = append(args, '\'')
		args = append(args, trunc(a, 128-len(args)+1)...)
		args = append(args, '\'', ' ')
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", trunc(argv[0], 128), args)
}

func errUnknownSubcommand(sub []byte, container string) string {
	return fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", trunc(sub, 128), strings.ToUpper(container))
}

func errArity(fullname string) string {
	return fmt.Sprintf(errArityPrefix+" for '%s' command", fullname)
}

func errHelloOption(opt []byte) string {
	return fmt.Sprintf("ERR Syntax error in HELLO option '%s'", opt)
}

func errUnrecognizedOption(opt []byte) string {
	return fmt.Sprintf("ERR Unrecognized option '%s'", opt)
}

func errConfigSetUnknown(name []byte) string {
	return fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", name)
}

func errConfigSet(name []byte, why string) string {
	return fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, why)
}

func errConfigRange(lo, hi int64) string {
	return fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi)
}

// trunc is C's "%.*s": at most n bytes of b.
func trunc(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		return b[:n]
	}
	return b
}

// backendError turns an error from the Backend into the reply text (without
// the leading '-'). closeConn is true when the client must simply be
// disconnected: the server is shutting down or the client went away.
func backendError(err error) (msg string, closeConn bool) {
	var moved *MovedError
	switch {
	case errors.As(err, &moved):
		return fmt.Sprintf("MOVED %d %s", moved.Slot, moved.Addr), false
	case errors.Is(err, ErrTryAgain):
		return "TRYAGAIN " + err.Error(), false
	case errors.Is(err, ErrClusterDown):
		return errClusterDown, false
	case errors.Is(err, ErrUncertain):
		return errUncertain, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "", true
	}
	return "ERR " + err.Error(), false
}
