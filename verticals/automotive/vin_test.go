package automotive

import (
	"strings"
	"testing"
)

func TestValidateVIN(t *testing.T) {
	cases := []struct {
		vin, want string
	}{
		{"1M8GDM9AXKP042788", ""},              // the classic check-digit example (X)
		{"11111111111111111", ""},              // check digit 1
		{"WVWZZZ1JZXW000001", ""},              // European: position 9 free
		{"ZFA31200000123456", "model year"},    // position 10 is 0
		{"1M8GDM9A1KP042788", "should be 'X'"}, // wrong check digit
		{"1M8GDM9AXKP04278", "17 characters (this one has 16)"},
		{"1M8GDM9AXKP0427888", "this one has 18"},
		{"WVWZZZ1JZXW00000O", "character 17 is 'O'"},
		{"WVWZZZ1JZXWI00001", "did you mean 1"},
		{"WVWZZZ1JZXW0000-1", "not a letter or digit"},
	}
	for _, c := range cases {
		got := ValidateVIN(NormalizeVIN(c.vin))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("ValidateVIN(%s) = %q, want %q", c.vin, got, c.want)
		}
	}
	if NormalizeVIN(" 1m8gdm9a xkp042788 ") != "1M8GDM9AXKP042788" {
		t.Error("normalisation")
	}
}
