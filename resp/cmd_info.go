package resp

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/streamraft/streamraft/fsm"
)

// infoSection writes one INFO section's lines (without the header).
type infoSection struct {
	name  string
	write func(c *conn, b *strings.Builder)
}

// infoSections in Redis's order; all of them are in "default".
var infoSections = []infoSection{
	{"server", infoServer},
	{"clients", infoClients},
	{"memory", infoMemory},
	{"persistence", infoPersistence},
	{"stats", infoStats},
	{"replication", infoReplication},
	{"cpu", infoCPU},
	{"modules", func(*conn, *strings.Builder) {}},
	{"errorstats", func(*conn, *strings.Builder) {}},
	{"cluster", infoCluster},
	{"keyspace", infoKeyspace},
}

// cmdInfo answers INFO [section ...]: no section, "default", "all" and
// "everything" give every section; unknown names are ignored.
func cmdInfo(c *conn, argv [][]byte) {
	want := map[string]bool{}
	all := len(argv) == 1
	for _, a := range argv[1:] {
		s := strings.ToLower(string(a))
		if s == "default" || s == "all" || s == "everything" {
			all = true
		}
		want[s] = true
	}
	var parts []string
	for _, sec := range infoSections {
		if !all && !want[sec.name] {
			continue
		}
		var b strings.Builder
		b.WriteString("# " + strings.ToUpper(sec.name[:1]) + sec.name[1:] + "\r\n")
		sec.write(c, &b)
		parts = append(parts, b.String())
	}
	c.w.Verbatim(strings.Join(parts, "\r\n"))
}

func line(b *strings.Builder, k string, v any) { fmt.Fprintf(b, "%s:%v\r\n", k, v) }

func infoServer(c *conn, b *strings.Builder) {
	cfg := c.srv.config()
	up := time.Since(c.srv.started)
	mode := "standalone"
	if cfg.ClusterEnabled {
		mode = "cluster"
	}
	line(b, "redis_version", cfg.Version)
	line(b, "streamraft_version", cfg.ServerVersion)
	line(b, "redis_mode", mode)
	line(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	line(b, "arch_bits", 64)
	line(b, "go_version", runtime.Version())
	line(b, "process_id", os.Getpid())
	line(b, "run_id", cfg.RunID)
	line(b, "node_id", cfg.NodeID)
	line(b, "tcp_port", cfg.Port)
	line(b, "server_time_usec", time.Now().UnixMicro())
	line(b, "uptime_in_seconds", int64(up.Seconds()))
	line(b, "uptime_in_days", int64(up.Hours()/24))
}

func infoClients(c *conn, b *strings.Builder) {
	blocked := 0
	cs := c.srv.clients()
	for _, o := range cs {
		o.mu.Lock()
		if o.blocked {
			blocked++
		}
		o.mu.Unlock()
	}
	line(b, "connected_clients", len(cs))
	line(b, "maxclients", c.srv.config().MaxClients)
	line(b, "blocked_clients", blocked)
}

func infoMemory(_ *conn, b *strings.Builder) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	line(b, "used_memory", ms.HeapAlloc)
	line(b, "used_memory_human", human(ms.HeapAlloc))
	line(b, "used_memory_rss", ms.Sys)
	line(b, "used_memory_rss_human", human(ms.Sys))
	line(b, "used_memory_peak", ms.HeapSys)
	line(b, "total_system_memory", 0)
	line(b, "maxmemory", 0)
	line(b, "maxmemory_policy", "noeviction")
	line(b, "mem_allocator", "go")
}

func human(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// infoPersistence: every acknowledged write is in the Raft log (fsynced),
// which is what Redis calls an always-fsynced AOF; there is no RDB.
func infoPersistence(_ *conn, b *strings.Builder) {
	line(b, "loading", 0)
	line(b, "rdb_changes_since_last_save", 0)
	line(b, "rdb_bgsave_in_progress", 0)
	line(b, "rdb_last_bgsave_status", "ok")
	line(b, "aof_enabled", 1)
	line(b, "aof_rewrite_in_progress", 0)
	line(b, "aof_last_write_status", "ok")
}

func infoStats(c *conn, b *strings.Builder) {
	s := &c.srv.stats
	line(b, "total_connections_received", s.connections.Load())
	line(b, "total_commands_processed", s.commands.Load())
	line(b, "total_net_input_bytes", s.netIn.Load())
	line(b, "total_net_output_bytes", s.netOut.Load())
	line(b, "rejected_connections", s.rejected.Load())
	line(b, "total_error_replies", s.errors.Load())
	line(b, "proxied_commands", s.proxied.Load())
}

func infoReplication(_ *conn, b *strings.Builder) {
	line(b, "role", "master")
	line(b, "connected_slaves", 0)
}

func infoCPU(_ *conn, b *strings.Builder) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	line(b, "used_cpu_sys", tv(ru.Stime))
	line(b, "used_cpu_user", tv(ru.Utime))
}

func infoCluster(c *conn, b *strings.Builder) {
	enabled := 0
	if c.srv.config().ClusterEnabled {
		enabled = 1
	}
	line(b, "cluster_enabled", enabled)
}

// infoKeyspace asks every shard for DBSIZE and sums; Redis prints no db0 line
// for an empty database, and neither does this.
func infoKeyspace(c *conn, b *strings.Builder) {
	r, err := fanoutDBSize(c, [][]byte{[]byte("DBSIZE")}, time.Now().UnixMilli())
	if err != nil || r.Kind != fsm.KindInt || r.Int == 0 {
		return
	}
	fmt.Fprintf(b, "db0:keys=%d,expires=0,avg_ttl=0\r\n", r.Int)
}

func cmdWait(c *conn, argv [][]byte) {
	if _, ok := parseInt(argv[1]); !ok {
		c.replyError(errNotInteger)
		return
	}
	t, ok := parseInt(argv[2])
	switch {
	case !ok:
		c.replyError(errTimeoutNotInt)
	case t < 0:
		c.replyError(errTimeoutNegative)
	default:
		// Every acknowledged write is already committed on a quorum; a
		// single node has no replicas to count.
		c.w.Int(0)
	}
}
