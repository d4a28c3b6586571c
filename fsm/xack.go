package fsm

// xack: XACK key group id [id ...]. A missing key or group answers 0
// before the IDs are parsed, as in Redis; all IDs are parsed before any is
// acknowledged.
func (m *Machine) xack(_ *execCtx, argv [][]byte) Reply {
	s := m.keys[string(argv[1])]
	if s == nil {
		return Int(0)
	}
	g := s.group(argv[2])
	if g == nil {
		return Int(0)
	}
	ids := make([]ID, len(argv)-3)
	for i, arg := range argv[3:] {
		id, ok := parseStrictID(arg)
		if !ok {
			return Err(errInvalidID)
		}
		ids[i] = id
	}
	n := int64(0)
	for _, id := range ids {
		if g.unpend(id) {
			n++
		}
	}
	return Int(n)
}
