package faultnet

// LinkStats counts what happened on one link. Connection counts are by the
// direction they were dialed in (a connection a dialed to b counts on
// a->b); byte and packet counts by the direction the data travelled.
type LinkStats struct {
	Dials   int64 // connections dialed and established
	Refused int64 // dials that gave up while the link was cut (or delayed past their deadline)
	Closed  int64 // connections closed, by the application or by the Net
	Killed  int64 // of those, closed by the Net: a Drop reset, or tainted and closed by Heal

	BytesLost      int64 // TCP bytes blackholed by a cut
	PacketsLost    int64 // UDP packets lost to a cut or a Drop
	PacketsDelayed int64 // UDP packets held back by a Delay
}

func (s *LinkStats) add(o LinkStats) {
	s.Dials += o.Dials
	s.Refused += o.Refused
	s.Closed += o.Closed
	s.Killed += o.Killed
	s.BytesLost += o.BytesLost
	s.PacketsLost += o.PacketsLost
	s.PacketsDelayed += o.PacketsDelayed
}

// Stats is a snapshot of the Net's counters.
type Stats struct {
	Links map[Link]LinkStats // every link that carried a connection or a rule
	Total LinkStats          // the sum over Links
	Open  int                // connections dialed through the Net and still open
}

// Stats returns the counters so far.
func (n *Net) Stats() Stats {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s := Stats{Links: make(map[Link]LinkStats, len(n.links)), Open: len(n.conns)}
	for k, l := range n.links {
		ls := LinkStats{
			Dials: l.dials.Load(), Refused: l.refused.Load(), Closed: l.closed.Load(), Killed: l.killed.Load(),
			BytesLost: l.bytesLost.Load(), PacketsLost: l.packetsLost.Load(), PacketsDelayed: l.packetsDelayed.Load(),
		}
		s.Links[k] = ls
		s.Total.add(ls)
	}
	return s
}
