package check

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ID is a stream entry ID, "<ms>-<seq>", ordered by Ms then Seq.
// It marshals to and from its text form.
type ID struct {
	Ms, Seq uint64
}

// maxID is the largest ID a stream can hold.
var maxID = ID{Ms: math.MaxUint64, Seq: math.MaxUint64}

// ParseID parses "<ms>-<seq>". A bare "<ms>" means "<ms>-0", as in XREAD.
func ParseID(s string) (ID, error) {
	ms, seq, found := strings.Cut(s, "-")
	var id ID
	var err error
	if id.Ms, err = strconv.ParseUint(ms, 10, 64); err != nil {
		return ID{}, fmt.Errorf("parse stream id %q: %w", s, err)
	}
	if !found {
		return id, nil
	}
	if id.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
		return ID{}, fmt.Errorf("parse stream id %q: %w", s, err)
	}
	return id, nil
}

// MustParseID is ParseID for constants in tests; it panics on a bad ID.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// String returns "<ms>-<seq>".
func (a ID) String() string {
	return strconv.FormatUint(a.Ms, 10) + "-" + strconv.FormatUint(a.Seq, 10)
}

// Less reports whether a sorts before b.
func (a ID) Less(b ID) bool {
	return a.Ms < b.Ms || (a.Ms == b.Ms && a.Seq < b.Seq)
}

// Compare returns -1, 0 or 1 as a sorts before, equal to or after b.
func (a ID) Compare(b ID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// next returns the smallest ID after a; ok is false at the maximum ID.
func (a ID) next() (id ID, ok bool) {
	switch {
	case a.Seq < math.MaxUint64:
		return ID{a.Ms, a.Seq + 1}, true
	case a.Ms < math.MaxUint64:
		return ID{a.Ms + 1, 0}, true
	}
	return a, false
}

// MarshalText returns the text form, so IDs read well in JSON dumps.
func (a ID) MarshalText() ([]byte, error) {
	return []byte(a.String()), nil
}

// UnmarshalText parses the text form.
func (a *ID) UnmarshalText(b []byte) error {
	id, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*a = id
	return nil
}
