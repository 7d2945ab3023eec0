package banking

import (
	"strings"
	"testing"
)

func TestValidateIBAN(t *testing.T) {
	cases := []struct{ iban, want string }{
		{"IT60X0542811101000000123456", ""}, // the standard Italian example
		{"DE89370400440532013000", ""},
		{"GB82WEST12345698765432", ""},
		{"IT60X0542811101000000123457", "check digits do not match"},
		{"IT61X0542811101000000123456", "check digits do not match"},
		{"IT60X054281110100000012345", "has 27 characters (this one has 26)"},
		{"DE89 3704 0044 0532 0130 00", ""},
		{"1234", "15 to 34"},
		{"XX0X370400440532013000", "country code and two check digits"},
	}
	for _, c := range cases {
		got := ValidateIBAN(NormalizeIBAN(c.iban))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("ValidateIBAN(%s) = %q, want %q", c.iban, got, c.want)
		}
	}
}

func TestItalianIBANGeneration(t *testing.T) {
	iban, err := ItalianIBAN("05428", "11101", "123456")
	if err != nil || iban != "IT60X0542811101000000123456" {
		t.Fatalf("ItalianIBAN = %q, %v", iban, err)
	}
	for i := 1; i < 200; i++ {
		iban, err := ItalianIBAN("03069", "09606", strings.Repeat("7", i%12+1))
		if err != nil || ValidateIBAN(iban) != "" {
			t.Fatalf("generated %q invalid: %v %s", iban, err, ValidateIBAN(iban))
		}
	}
	if FormatIBAN("IT60X0542811101000000123456") != "IT60 X054 2811 1010 0000 0123 456" {
		t.Error("format")
	}
}
