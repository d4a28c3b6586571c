package fsm

// globMatch reports whether str matches the glob pattern, with the rules of
// Redis's stringmatchlen (case-sensitive): *, ?, [abc], [^abc], [a-z] and
// backslash escapes.
func globMatch(pattern, str []byte) bool {
	skip := false
	return globImpl(pattern, str, &skip, 0)
}

// at returns p[i], or 0 past the end (C's terminating NUL).
func at(p []byte, i int) byte {
	if i < len(p) && i >= 0 {
		return p[i]
	}
	return 0
}

func globImpl(p, s []byte, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && at(p, 1) == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globImpl(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			var ok bool
			if p, ok = globClass(p[1:], s[0]); !ok {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// globClass matches c against the class starting after '['; it returns the
// pattern positioned on the closing ']' (or the last byte when unclosed).
func globClass(p []byte, c byte) ([]byte, bool) {
	not := at(p, 0) == '^'
	if not {
		p = p[1:]
	}
	match := false
	for {
		switch {
		case at(p, 0) == '\\' && len(p) >= 2:
			p = p[1:]
			if p[0] == c {
				match = true
			}
		case at(p, 0) == ']' && len(p) > 0:
			return p, match != not
		case len(p) == 0:
			// Unclosed class: Redis steps back onto the last byte, which
			// the caller then skips.
			return []byte{0}, match != not
		case len(p) >= 3 && p[1] == '-':
			// C compares signed chars.
			start, end, ch := int(int8(p[0])), int(int8(p[2])), int(int8(c))
			if start > end {
				start, end = end, start
			}
			p = p[2:]
			if ch >= start && ch <= end {
				match = true
			}
		default:
			if p[0] == c {
				match = true
			}
		}
		p = p[1:]
	}
}
