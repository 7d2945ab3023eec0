package banking

import (
	"fmt"
	"math/big"
	"strings"
)

// IBAN rules (ISO 13616): a country code, two check digits, then the
// country's BBAN. The check digits make the whole number ≡ 1 (mod 97) once
// the first four characters move to the end and letters become 10..35.

var ibanLengths = map[string]int{"IT": 27, "DE": 22, "FR": 27, "ES": 24, "NL": 18, "BE": 16, "AT": 20, "PT": 25, "CH": 21, "GB": 22, "IE": 22, "SM": 27}

// NormalizeIBAN removes spaces and upper-cases.
func NormalizeIBAN(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }

func ibanNumber(s string) (*big.Int, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			fmt.Fprintf(&b, "%d", r-'A'+10)
		default:
			return nil, fmt.Errorf("%q is not a letter or digit", r)
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	if !ok {
		return nil, fmt.Errorf("not a number")
	}
	return n, nil
}

// ValidateIBAN returns a message a person understands, or "".
func ValidateIBAN(iban string) string {
	if len(iban) < 15 || len(iban) > 34 {
		return "must be 15 to 34 characters"
	}
	cc := iban[:2]
	if want, ok := ibanLengths[cc]; ok && len(iban) != want {
		return fmt.Sprintf("an IBAN from %s has %d characters (this one has %d)", cc, want, len(iban))
	}
	if cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || iban[2] < '0' || iban[2] > '9' || iban[3] < '0' || iban[3] > '9' {
		return "must start with a country code and two check digits, e.g. IT60"
	}
	n, err := ibanNumber(iban[4:] + iban[:4])
	if err != nil {
		return err.Error()
	}
	if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return "the check digits do not match; please check for a typing error"
	}
	if cc == "IT" {
		if cin := italianCIN(iban[5:]); cin != iban[4] {
			return "the Italian check character (CIN) does not match"
		}
	}
	return ""
}

// IBANCheckDigits computes the two check digits for a country and BBAN.
func IBANCheckDigits(country, bban string) (string, error) {
	n, err := ibanNumber(bban + country + "00")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%02d", 98-new(big.Int).Mod(n, big.NewInt(97)).Int64()), nil
}

// ItalianIBAN builds an Italian IBAN from the bank (ABI, 5 digits), branch
// (CAB, 5 digits) and account number (up to 12 characters), computing the
// national check character (CIN) and the ISO check digits.
func ItalianIBAN(abi, cab, account string) (string, error) {
	account = strings.ToUpper(account)
	if len(abi) != 5 || len(cab) != 5 || len(account) == 0 || len(account) > 12 {
		return "", fmt.Errorf("ABI and CAB have 5 digits and the account up to 12 characters")
	}
	account = strings.Repeat("0", 12-len(account)) + account
	rest := abi + cab + account
	bban := string(italianCIN(rest)) + rest
	cd, err := IBANCheckDigits("IT", bban)
	if err != nil {
		return "", err
	}
	return "IT" + cd + bban, nil
}

var cinOdd = [...]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// italianCIN computes the CIN letter over ABI+CAB+account (22 characters).
func italianCIN(s string) byte {
	if len(s) != 22 {
		return 0
	}
	sum := 0
	for i := 0; i < 22; i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c - 'A')
		default:
			return 0
		}
		if i%2 == 0 { // odd positions, counting from 1
			sum += cinOdd[v]
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

// FormatIBAN groups an IBAN in fours for reading.
func FormatIBAN(iban string) string {
	var parts []string
	for i := 0; i < len(iban); i += 4 {
		end := i + 4
		if end > len(iban) {
			end = len(iban)
		}
		parts = append(parts, iban[i:end])
	}
	return strings.Join(parts, " ")
}
