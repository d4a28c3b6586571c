package resp

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestErrorTextsGolden pins the exact bytes of the error replies that are
// built from parts (the constant ones are pinned by the server tests and
// the differential test against redis-server).
func TestErrorTextsGolden(t *testing.T) {
	b := func(ss ...string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	long := string(make([]byte, 0)) + fmt.Sprintf("%0200d", 0)
	tests := []struct{ got, want string }{
		{errUnknownCommand(b("foo", "a", "b")), "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{errUnknownCommand(b("foo")), "ERR unknown command 'foo', with args beginning with: "},
		{errUnknownCommand(b("x", long, "y")), "ERR unknown command 'x', with args beginning with: '" + long[:128] + "' "},
		{errUnknownCommand(b("x", "aaa", long)), "ERR unknown command 'x', with args beginning with: 'aaa' '" + long[:122] + "' "},
		{errUnknownSubcommand([]byte("foo"), "client"), "ERR unknown subcommand 'foo'. Try CLIENT HELP."},
		{errArity("client|setname"), "ERR wrong number of arguments for 'client|setname' command"},
		{errHelloOption([]byte("FOO")), "ERR Syntax error in HELLO option 'FOO'"},
		{errConfigSetUnknown([]byte("foo")), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{errConfigSet([]byte("databases"), errImmutableConfig), "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{errConfigSet([]byte("x"), errConfigRange(0, 9223372036854775807)), "ERR CONFIG SET failed (possibly related to argument 'x') - argument must be between 0 and 9223372036854775807 inclusive"},
		{errExecAbort, "EXECABORT Transaction discarded because of previous errors."},
		{errExecAbortBecause + "wrong number of arguments for 'exec' command", "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"},
		{errAuthNoPassword, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

func TestBackendError(t *testing.T) {
	tests := []struct {
		err       error
		want      string
		closeConn bool
	}{
		{&MovedError{Slot: 3999, Addr: "127.0.0.1:6381"}, "MOVED 3999 127.0.0.1:6381", false},
		{fmt.Errorf("write: %w", &MovedError{Slot: 1, Addr: ":6380"}), "MOVED 1 :6380", false},
		{fmt.Errorf("shard 2: %w", ErrTryAgain), "TRYAGAIN shard 2: shard has no leader", false},
		{ErrClusterDown, "CLUSTERDOWN The cluster is down", false},
		{fmt.Errorf("write: %w", ErrUncertain), "UNCERTAIN the shard's leader changed before this write was known to be committed: it may or may not have been applied", false},
		{fmt.Errorf("apply: %w", context.Canceled), "", true},
		{errors.New("disk full"), "ERR disk full", false},
	}
	for _, tt := range tests {
		got, closeConn := backendError(tt.err)
		if got != tt.want || closeConn != tt.closeConn {
			t.Errorf("backendError(%v) = %q, %v; want %q, %v", tt.err, got, closeConn, tt.want, tt.closeConn)
		}
	}
}
