package resp

import (
	"math"
	"strconv"
	"strings"
)

// configParam is one parameter CONFIG GET reports. set is nil for the ones
// that cannot change at run time (CONFIG SET answers "can't set immutable
// config"); it returns the failure reason Redis gives, or "".
type configParam struct {
	name string
	get  func(cfg *Config) string
	set  func(cfg *Config, val string) string
}

func fixed(v string) func(*Config) string { return func(*Config) string { return v } }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// configParams answers truthfully for streamraft: every acknowledged write
// is in the fsynced Raft log (appendonly yes, appendfsync always, no RDB
// save points), there is one database, no eviction and no idle timeout.
var configParams = []configParam{
	{"save", fixed(""), nil},
	{"appendonly", fixed("yes"), nil},
	{"appendfsync", fixed("always"), nil},
	{"databases", fixed("1"), nil},
	{"maxmemory", fixed("0"), nil},
	{"maxmemory-policy", fixed("noeviction"), nil},
	{"timeout", fixed("0"), nil},
	{"port", func(c *Config) string { return itoa(int64(c.Port)) }, nil},
	{"cluster-enabled", func(c *Config) string { return yesNo(c.ClusterEnabled) }, nil},
	{"maxclients", func(c *Config) string { return itoa(int64(c.MaxClients)) },
		func(c *Config, v string) string {
			n, why := parseConfigInt(v, 1, math.MaxUint32, false)
			c.MaxClients = int(n)
			return why
		}},
	{"proto-max-bulk-len", func(c *Config) string { return itoa(c.MaxBulkBytes) },
		func(c *Config, v string) string {
			n, why := parseConfigInt(v, 1<<20, math.MaxInt64, true)
			c.MaxBulkBytes = n // applies to connections accepted from now on
			return why
		}},
	{"client-query-buffer-limit", func(c *Config) string { return itoa(int64(c.MaxQueryBytes)) }, nil},
	// stream-node-* are recorded and reported only: the fsm's stream block
	// size does not follow them.
	{"stream-node-max-entries", func(c *Config) string { return itoa(c.StreamNodeMaxEntries) },
		func(c *Config, v string) string {
			n, why := parseConfigInt(v, 0, math.MaxInt64, false)
			c.StreamNodeMaxEntries = n
			return why
		}},
	{"stream-node-max-bytes", func(c *Config) string { return itoa(c.StreamNodeMaxBytes) },
		func(c *Config, v string) string {
			n, why := parseConfigInt(v, 0, math.MaxInt64, true)
			c.StreamNodeMaxBytes = n
			return why
		}},
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseConfigInt parses an integer config value, with Redis's memory units
// (b, k, kb, m, mb, g, gb) when memory is set.
func parseConfigInt(v string, lo, hi int64, memory bool) (int64, string) {
	mult := int64(1)
	if memory {
		lv := strings.ToLower(v)
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
			if strings.HasSuffix(lv, u.suffix) {
				v, mult = v[:len(v)-len(u.suffix)], u.mult
				break
			}
		}
	}
	n, ok := parseInt([]byte(v))
	if !ok {
		if memory {
			return 0, "argument must be a memory value"
		}
		return 0, errConfigNotInt
	}
	if n != 0 && (n*mult)/mult != n {
		return 0, "argument must be a memory value"
	}
	n *= mult
	if n < lo || n > hi {
		return 0, errConfigRange(lo, hi)
	}
	return n, ""
}

func (t *table) addConfigCommands() {
	t.add("config|get", kindLocal, configGet)
	t.add("config|set", kindLocal, configSet)
	t.add("config|resetstat", kindLocal, func(c *conn, _ [][]byte) {
		c.srv.stats.reset()
		c.w.Simple("OK")
	})
	t.add("config|help", kindLocal, func(c *conn, _ [][]byte) {
		writeHelp(c, "config",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.")
	})
}

func configGet(c *conn, argv [][]byte) {
	cfg := c.srv.config()
	var out []string
	for _, p := range configParams {
		for _, pat := range argv[2:] {
			if globMatch(pat, []byte(p.name), true) {
				out = append(out, p.name, p.get(&cfg))
				break
			}
		}
	}
	c.w.Map(len(out) / 2)
	for _, s := range out {
		c.w.BulkString(s)
	}
}

// configSet applies every name/value pair or none, as Redis 7.0 does.
func configSet(c *conn, argv [][]byte) {
	if len(argv)%2 != 0 {
		c.replyError(errArity("config|set"))
		return
	}
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.cfg
	seen := map[string]bool{}
	for i := 2; i < len(argv); i += 2 {
		name := strings.ToLower(string(argv[i]))
		p := findConfigParam(name)
		if p == nil {
			c.replyError(errConfigSetUnknown(argv[i]))
			return
		}
		if seen[name] {
			c.replyError(errConfigSet(argv[i], errConfigDup))
			return
		}
		seen[name] = true
		if p.set == nil {
			c.replyError(errConfigSet(argv[i], errImmutableConfig))
			return
		}
		if why := p.set(&next, string(argv[i+1])); why != "" {
			c.replyError(errConfigSet(argv[i], why))
			return
		}
	}
	s.cfg = next
	c.w.Simple("OK")
}

func findConfigParam(name string) *configParam {
	for i := range configParams {
		if configParams[i].name == name {
			return &configParams[i]
		}
	}
	return nil
}
