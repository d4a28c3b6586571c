package fsm

import "math"

// parseLL parses a signed 64-bit integer exactly as Redis's string2ll: no
// sign other than a leading '-', no leading zeros, no spaces, under 21 bytes.
func parseLL(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		if len(s) == 0 {
			return 0, false
		}
	}
	if s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseULL parses an unsigned 64-bit integer as Redis's string2ull: first
// strictly as string2ll (negative values refused), then with the leniency of
// C's strtoull (leading spaces, a sign, values past int64).
func parseULL(s []byte) (uint64, bool) {
	if v, ok := parseLL(s); ok {
		return uint64(v), v >= 0
	}
	return strtoull(s, true)
}

// strtoull emulates C's strtoull(s, &end, 10) followed by a check that the
// whole (non-empty) string was consumed and no range error occurred.
func strtoull(s []byte, allowSpace bool) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	i := 0
	if allowSpace {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 || v*10 > math.MaxUint64-uint64(c-'0') {
			return 0, false // ERANGE
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// parseInt parses an integer argument; the error reply is Redis's
// "value is not an integer or out of range".
func parseInt(b []byte) (int64, *Reply) {
	v, ok := parseLL(b)
	if !ok {
		r := Err(errNotInt)
		return 0, &r
	}
	return v, nil
}
