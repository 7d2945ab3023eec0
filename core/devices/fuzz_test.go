package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/devices"
)

// FuzzStreamDecode feeds arbitrary payloads to a typed stream: it never
// panics, and whatever it accepts satisfies the stream's Validate.
func FuzzStreamDecode(f *testing.F) {
	for _, s := range []string{`{"seq":1,"temp":21.5}`, `{"seq":1,"temp":900}`, `{"seq":"x"}`, `{`, `[]`, `null`, `{"seq":1,"temp":1,"ts":"2026-01-01T00:00:00Z"}`} {
		f.Add([]byte(s))
	}
	st := devices.Stream[gauge]{
		Validate: gaugeModuleValidate,
		Time:     func(g gauge) time.Time { return g.TS },
		Value:    func(g gauge) float64 { return g.Temp },
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := st.Decode(payload)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("a rejection without a reason")
			}
			return
		}
		if d.Value == nil || *d.Value < -60 || *d.Value > 150 {
			t.Fatalf("accepted an out-of-range payload %q", payload)
		}
	})
}

// FuzzVerifySecret checks that malformed stored hashes are refused, never
// accepted and never a panic.
func FuzzVerifySecret(f *testing.F) {
	f.Add("$7$101$QbqA7dqO1Y2ELmrc$0tqtj6hs3fE1S/Ys66dvD+SQ1zSVV8Xi9wB4gf7Sdq1BdEwROkT5Xh5kmBbrBnL8xVs6USvmsNs0lkPuISyPnA==", "password")
	f.Add("$7$1$$", "")
	f.Add("$6$abc$def", "x")
	f.Fuzz(func(t *testing.T, hash, secret string) {
		ok, err := devices.VerifySecret(hash, secret)
		if ok && err != nil {
			t.Fatal("verified and failed at once")
		}
	})
}

func gaugeModuleValidate(g gauge) error {
	return gaugeModule{}.validate(g)
}
