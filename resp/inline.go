package resp

import "bytes"

// splitArgs splits an inline command line as Redis's sdssplitargs does:
// whitespace separates arguments; "double quotes" understand \n \r \t \b \a
// \xHH and \<c>; 'single quotes' understand \'; a closing quote must be
// followed by whitespace or the end of the line. ok is false for unbalanced
// quotes. The arguments alias r.scratch until the next call.
func (r *Reader) splitArgs(line []byte) (args [][]byte, ok bool) {
	if nul := bytes.IndexByte(line, 0); nul >= 0 {
		line = line[:nul] // unreachable from parseInline (see cIndexByte); kept for safety
	}
	r.scratch = r.scratch[:0]
	offs := r.offs[:0]
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		start := len(r.scratch)
		var good bool
		i, good = r.token(line, i)
		if !good {
			r.offs = offs
			return nil, false
		}
		offs = append(offs, start, len(r.scratch))
	}
	r.offs = offs
	r.args = r.args[:0]
	for k := 0; k < len(offs); k += 2 {
		r.args = append(r.args, r.scratch[offs[k]:offs[k+1]:offs[k+1]])
	}
	r.offs = r.offs[:0]
	return r.args, true
}

// token appends one argument starting at line[i] to r.scratch and returns
// the index after it.
func (r *Reader) token(line []byte, i int) (int, bool) {
	inDouble, inSingle := false, false
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case inDouble:
			switch {
			case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
				r.scratch = append(r.scratch, hexVal(line[i+2])<<4|hexVal(line[i+3]))
				i += 3
			case c == '\\' && i+1 < len(line):
				i++
				r.scratch = append(r.scratch, unescape(line[i]))
			case c == '"':
				if i+1 < len(line) && !isSpace(line[i+1]) {
					return i, false
				}
				return i + 1, true
			default:
				r.scratch = append(r.scratch, c)
			}
		case inSingle:
			switch {
			case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
				i++
				r.scratch = append(r.scratch, '\'')
			case c == '\'':
				if i+1 < len(line) && !isSpace(line[i+1]) {
					return i, false
				}
				return i + 1, true
			default:
				r.scratch = append(r.scratch, c)
			}
		default:
			switch c {
			case ' ', '\n', '\r', '\t':
				return i, true
			case '"':
				inDouble = true
			case '\'':
				inSingle = true
			default:
				r.scratch = append(r.scratch, c)
			}
		}
	}
	return i, !inDouble && !inSingle
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
