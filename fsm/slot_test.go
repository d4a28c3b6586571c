package fsm

import "testing"

// TestKeySlot checks the values of REDIS.md §4.1 (observed CLUSTER KEYSLOT).
func TestKeySlot(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x; want 0x31c3", got)
	}
	for _, c := range []struct {
		key  string
		want int
	}{
		{"foo", 12182},
		{"{user1000}.following", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"", 0},
		{"123456789", 12739},
		{"a", 15495},
		{"{a}dlq", 15495},
		{"x{a", int(crc16([]byte("x{a")) % SlotCount)},
	} {
		if got := KeySlot([]byte(c.key)); got != c.want {
			t.Errorf("KeySlot(%q) = %d; want %d", c.key, got, c.want)
		}
	}
}
