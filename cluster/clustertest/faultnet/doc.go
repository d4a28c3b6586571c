// Package faultnet puts network faults between the nodes of an in-process
// test cluster: one-way and two-way cuts, isolation, partitions, delay and
// random loss, each on a directed link between two named nodes.
//
// Nodes run their node-to-node traffic through one Net: Raft and the node
// RPC dial through [Net.Dial], gossip goes through [Net.WrapTransport].
// [Net.Register] tells the Net which host:port addresses belong to which
// node; traffic to or from an address no node registered is never faulted,
// so clients that dial a node directly still reach a partitioned node.
//
// # Links and rules
//
// A link is a direction: a→b carries what a sends to b. [Net.Cut],
// [Net.Delay] and [Net.Drop] set a rule on one link; [Net.CutBoth],
// [Net.Isolate] and [Net.Partition] set cuts on many, expanded over the
// nodes registered at the time of the call. Rules are kept by node name, so
// they survive a node's restart on new ports. [Net.Heal] clears every rule.
// Delay and Drop replace the link's earlier delay or loss; a zero value
// removes it. Only Heal removes a cut.
//
// # TCP
//
// A connection a dials to b carries a→b in its writes and b→a in its reads;
// both are faulted at a's end, the only end the Net always sees (the
// accepting side is the node's own listener). The accepting end is a plain
// socket.
//
//   - Dial across a cut link blocks, like a SYN into a black hole, until
//     the link opens (the dial then proceeds) or ctx ends; the error is a
//     *net.OpError whose Timeout() is true when ctx's deadline passed and
//     which wraps [ErrCut] and ctx.Err(). Only a→b decides: a one-way cut
//     b→a does not stop a's dials (real TCP would lose the SYN-ACK, but then
//     a one-way cut could never let a's requests through, which is the
//     point of one). A dial across a delayed link waits one round trip of
//     the two links' delays.
//   - Bytes that meet a cut on an open connection are blackholed: a
//     write reports success at once (a real socket would block once its
//     buffer filled), a read throws away what arrived and reads again, so
//     the reader sees silence until its deadline. The
//     connection's direction is then tainted: it blackholes everything from
//     then on, whatever the rules say, so no stream with a hole in it ever
//     reaches the application. Heal closes every tainted connection. The
//     reading end applies the b→a rule when the application reads, so bytes
//     that arrived during a cut but were not read before Heal are delivered
//     late and whole, as TCP's retransmission would deliver them.
//   - Cutting a link does not close its connections. A real partition
//     sends no FIN or RST; the application must notice the silence through
//     its own heartbeats and deadlines, which is the behaviour the tests
//     are after. Connections that carried nothing during the cut survive
//     it untouched. (Closing at once would make a partition look like a
//     crash, which tests get by killing a node.)
//   - Delay d: a's Write on a delayed a→b waits d and then writes; a's
//     Read on a delayed b→a holds each chunk it read for d before
//     returning it. Order is kept because each direction is one stream
//     handled in place, but back-to-back traffic is slowed too: a
//     direction moves at most one write (or one read chunk) per d. Waits
//     honour the connection's deadlines and Close. Keep d well below the
//     application's I/O deadlines.
//   - Drop p: each write on a→b (each chunk read from b→a) resets the
//     connection with probability p: it is closed with SO_LINGER 0, so the
//     peer gets an RST, and the call fails with an error wrapping
//     [ErrReset]. Dials are not dropped.
//
// # Gossip
//
// [Net.WrapTransport] wraps a memberlist transport. Each UDP packet is
// faulted once: by the sender's wrapper on its way out (destination
// address → node), or, when the sender's gossip does not go through a
// wrapper of this Net, by the receiver's wrapper on its way in (source
// address → node). A cut or a loss drops the packet silently; a delay sends
// it from a goroutine d later (UDP may reorder, and so may this).
// memberlist's TCP streams are dialed like [Net.Dial] (blocking until the
// timeout across a cut) and faulted at the dialing end like any TCP
// connection; StreamCh passes inbound streams through unchanged, because
// their dialer already faulted them (an accepted stream's source port is
// ephemeral and names no node).
//
// # Randomness and cost
//
// Each link draws its losses from its own generator, seeded from the seed
// given to [New] and the link's names, so a link's sequence of outcomes is
// the same on every run with that seed (which write meets which outcome
// still depends on scheduling). With no rule on a link, a connection's
// Write and Read cost two or three atomic loads more than the socket's;
// with no rule anywhere, a packet costs one.
package faultnet
