package automotive

import (
	"fmt"
	"strings"
)

// VIN rules (ISO 3779): 17 characters from the digits and the letters
// without I, O and Q. Position 9 is a check digit for vehicles made for
// North America (world manufacturer identifiers starting 1-5), computed as
// in 49 CFR 565.15; elsewhere position 9 is free and not checked.

var vinValues = map[rune]int{
	'A': 1, 'B': 2, 'C': 3, 'D': 4, 'E': 5, 'F': 6, 'G': 7, 'H': 8,
	'J': 1, 'K': 2, 'L': 3, 'M': 4, 'N': 5, 'P': 7, 'R': 9,
	'S': 2, 'T': 3, 'U': 4, 'V': 5, 'W': 6, 'X': 7, 'Y': 8, 'Z': 9,
}

var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

func vinValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	v, ok := vinValues[r]
	return v, ok
}

// NormalizeVIN upper-cases and trims a VIN as typed.
func NormalizeVIN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// VINCheckDigit returns the North American check digit of vin ('0'-'9' or
// 'X').
func VINCheckDigit(vin string) (byte, error) {
	if len(vin) != 17 {
		return 0, fmt.Errorf("a VIN has 17 characters")
	}
	sum := 0
	for i, r := range vin {
		v, ok := vinValue(r)
		if !ok {
			return 0, fmt.Errorf("character %d (%q) is not allowed", i+1, r)
		}
		sum += v * vinWeights[i]
	}
	if rem := sum % 11; rem == 10 {
		return 'X', nil
	} else {
		return byte('0' + rem), nil
	}
}

// ValidateVIN checks a normalised VIN and returns a message a person
// understands, or "".
func ValidateVIN(vin string) string {
	if n := len([]rune(vin)); n != 17 {
		return fmt.Sprintf("must be 17 characters (this one has %d)", n)
	}
	for i, r := range vin {
		switch {
		case r == 'I' || r == 'O' || r == 'Q':
			return fmt.Sprintf("character %d is %q, which VINs never use (did you mean %s?)", i+1, r, map[rune]string{'I': "1", 'O': "0", 'Q': "0"}[r])
		case !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'):
			return fmt.Sprintf("character %d (%q) is not a letter or digit", i+1, r)
		}
	}
	if strings.ContainsRune("UZ0", rune(vin[9])) {
		return fmt.Sprintf("character 10 (model year) cannot be %q", vin[9])
	}
	if vin[0] >= '1' && vin[0] <= '5' {
		want, err := VINCheckDigit(vin)
		if err != nil {
			return err.Error()
		}
		if vin[8] != want {
			return fmt.Sprintf("the check digit (character 9) should be %q for this VIN; please check for a typing error", want)
		}
	}
	return ""
}
