package agent

import (
	"testing"
	"time"
)

func TestBackoffCeiling(t *testing.T) {
	b := Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 500 * time.Millisecond},
		{1, time.Second},
		{2, 2 * time.Second},
		{5, 16 * time.Second},
		{6, 30 * time.Second},
		{60, 30 * time.Second},
		{1 << 20, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := b.Ceiling(tt.n); got != tt.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// Full jitter: the delay is uniform in [0, ceiling]; the random source is injectable.
func TestBackoffFullJitter(t *testing.T) {
	var asked []int64
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: func(n int64) int64 {
		asked = append(asked, n)
		return n - 1 // the top of the range
	}}
	if d := b.Delay(0); d != 100*time.Millisecond {
		t.Fatalf("Delay(0) at the top = %v", d)
	}
	if d := b.Delay(10); d != time.Second {
		t.Fatalf("Delay(10) at the top = %v", d)
	}
	b.Rand = func(int64) int64 { return 0 }
	if d := b.Delay(3); d != 0 {
		t.Fatalf("Delay(3) at the bottom = %v", d)
	}
	if asked[0] != int64(100*time.Millisecond)+1 {
		t.Fatalf("range asked %d", asked[0])
	}
	// The default source stays in range.
	b.Rand = nil
	for i := range 1000 {
		if d := b.Delay(i % 8); d < 0 || d > b.Ceiling(i%8) {
			t.Fatalf("Delay out of range: %v", d)
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := Backoff{}.withDefaults()
	if b.HealthyAfter != 30*time.Second || b.Max != 30*time.Second || b.Base != 500*time.Millisecond {
		t.Fatalf("defaults: %+v", b)
	}
}
