package fsm

// Kind says which RESP type a Reply is. The fsm never writes wire bytes: the
// resp package renders a Reply as RESP2 or RESP3.
type Kind uint8

// Reply kinds. RESP2 and RESP3 renderings are given for each.
const (
	KindSimple    Kind = iota // +OK                    | +OK
	KindError                 // -ERR text               | -ERR text
	KindInt                   // :1                     | :1
	KindBulk                  // $3\r\nabc              | $3\r\nabc
	KindNull                  // $-1 (null bulk)        | _
	KindNullArray             // *-1 (null array)       | _
	KindArray                 // *N                     | *N
	KindMap                   // *2N flat key,value...  | %N
	KindPairs                 // *N of *2 [key, value]  | %N  (XREAD, XREADGROUP)
)

// Reply is one command's answer as a value. Str holds the text of simple
// strings and errors (errors carry their code: "ERR syntax error",
// "WRONGTYPE ..."); Bulk holds bulk strings; Elems holds array elements, or
// for a map the keys and values interleaved (k1, v1, k2, v2, ...).
type Reply struct {
	Kind  Kind
	Int   int64
	Str   string
	Bulk  []byte
	Elems []Reply
}

// OK is the +OK reply.
func OK() Reply { return Reply{Kind: KindSimple, Str: "OK"} }

// Simple is a simple-string reply.
func Simple(s string) Reply { return Reply{Kind: KindSimple, Str: s} }

// Err is an error reply; msg starts with its code, e.g. "ERR syntax error".
func Err(msg string) Reply { return Reply{Kind: KindError, Str: msg} }

// Int is an integer reply.
func Int(n int64) Reply { return Reply{Kind: KindInt, Int: n} }

// Bulk is a bulk-string reply. The slice is not copied.
func Bulk(b []byte) Reply { return Reply{Kind: KindBulk, Bulk: b} }

// BulkString is a bulk-string reply from a string.
func BulkString(s string) Reply { return Reply{Kind: KindBulk, Bulk: []byte(s)} }

// Null is the null bulk string ($-1 in RESP2, _ in RESP3).
func Null() Reply { return Reply{Kind: KindNull} }

// NullArray is the null array (*-1 in RESP2, _ in RESP3).
func NullArray() Reply { return Reply{Kind: KindNullArray} }

// Array is an array reply.
func Array(elems ...Reply) Reply {
	if elems == nil {
		elems = []Reply{}
	}
	return Reply{Kind: KindArray, Elems: elems}
}

// Map is a map reply from interleaved keys and values; RESP2 sees a flat array.
func Map(kv ...Reply) Reply { return Reply{Kind: KindMap, Elems: kv} }

// Pairs is a map reply that RESP2 shows as an array of [key, value] pairs,
// as XREAD does; kv interleaves keys and values like Map.
func Pairs(kv ...Reply) Reply { return Reply{Kind: KindPairs, Elems: kv} }

// IsError reports whether r is an error reply.
func (r Reply) IsError() bool { return r.Kind == KindError }
