package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/streamraft/streamraft/cluster"
)

// gossipNode is one binary run with --join.
type gossipNode struct {
	id, addr, httpAddr, gossipAddr string
	cmd                            *exec.Cmd
	out                            *lockedBuffer
	done                           chan struct{}
}

// startGossipNode runs the binary with membership on and waits for /readyz.
func startGossipNode(t *testing.T, id string, gossipAddr string, join string) *gossipNode {
	t.Helper()
	n := &gossipNode{id: id, addr: freeAddr(t), httpAddr: freeAddr(t), gossipAddr: gossipAddr,
		out: new(lockedBuffer), done: make(chan struct{})}
	n.cmd = exec.Command(buildBinary(t), "--node-id", id, "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--addr", n.addr, "--raft-addr", freeAddr(t), "--http-addr", n.httpAddr, "--log-level", "warn",
		"--gossip-addr", gossipAddr, "--join", join)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	go func() {
		_ = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
	})
	n.waitMembers(t, nil) // any answer: the HTTP side is up
	return n
}

// members is /status's member list, nil if /status does not answer.
func (n *gossipNode) members() []cluster.Member {
	res, err := http.Get("http://" + n.httpAddr + "/status")
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var st struct {
		Members []cluster.Member `json:"members"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return nil
	}
	return st.Members
}

// waitMembers polls /status until its member IDs are want (nil: until
// /status lists any member).
func (n *gossipNode) waitMembers(t *testing.T, want []string) []cluster.Member {
	t.Helper()
	deadline := time.Now().Add(crashStartTimeout)
	for {
		got := n.members()
		ids := memberIDs(got)
		if (want == nil && len(got) > 0) || (want != nil && slices.Equal(ids, want)) {
			return got
		}
		select {
		case <-n.done:
			t.Fatalf("%s exited: %v\n%s", n.id, n.cmd.ProcessState, n.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s /status members %v; want %v\n%s", n.id, ids, want, n.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestGossipDiscovery(t *testing.T) {
	g1Addr, g2Addr := freeAddr(t), freeAddr(t)
	// Both get the same seed list, as the pods of a StatefulSet do.
	seeds := g1Addr + "," + g2Addr
	g1 := startGossipNode(t, "g1", g1Addr, seeds)
	g2 := startGossipNode(t, "g2", g2Addr, seeds)
	for _, n := range []*gossipNode{g1, g2} {
		got := n.waitMembers(t, []string{"g1", "g2"})
		for i, m := range got {
			want := []*gossipNode{g1, g2}[i]
			if m.RESPAddr != want.addr || m.HTTPAddr != want.httpAddr || m.GossipAddr != want.gossipAddr || !m.Alive {
				t.Errorf("%s sees %+v; want resp %s, http %s, gossip %s, alive", n.id, m, want.addr, want.httpAddr, want.gossipAddr)
			}
		}
	}
	if err := g2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM g2: %v", err)
	}
	select {
	case <-g2.done:
	case <-time.After(crashStopTimeout):
		t.Fatalf("g2 still running %v after SIGTERM\n%s", crashStopTimeout, g2.out)
	}
	if !g2.cmd.ProcessState.Success() {
		t.Errorf("g2 exited with %v after SIGTERM; want 0\n%s", g2.cmd.ProcessState, g2.out)
	}
	g1.waitMembers(t, []string{"g1"}) // g2 left gracefully
}

func memberIDs(ms []cluster.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}
