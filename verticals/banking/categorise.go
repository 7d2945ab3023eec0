package banking

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Category is a spending or income category.
type Category string

// The categories every organisation starts with.
const (
	CatGroceries     Category = "groceries"
	CatRestaurants   Category = "restaurants"
	CatTransport     Category = "transport"
	CatFuel          Category = "fuel"
	CatUtilities     Category = "utilities"
	CatHousing       Category = "housing"
	CatTelecom       Category = "telecom"
	CatEntertainment Category = "entertainment"
	CatHealth        Category = "health"
	CatShopping      Category = "shopping"
	CatTravel        Category = "travel"
	CatInsurance     Category = "insurance"
	CatEducation     Category = "education"
	CatIncome        Category = "income"
	CatTransfers     Category = "transfers"
	CatSavings       Category = "savings"
	CatOther         Category = "other"
)

// Categories lists them in display order.
var Categories = []Category{CatGroceries, CatRestaurants, CatTransport, CatFuel, CatUtilities, CatHousing, CatTelecom,
	CatEntertainment, CatHealth, CatShopping, CatTravel, CatInsurance, CatEducation, CatIncome, CatTransfers, CatSavings, CatOther}

// ValidCategory reports whether c is known.
func ValidCategory(c Category) bool {
	for _, k := range Categories {
		if k == c {
			return true
		}
	}
	return false
}

//go:embed data/mcc-codes.csv
var mccCSV []byte

// mccRanges map ISO 18245 codes to categories (by range, then exact code).
var mccRanges = []struct {
	from, to int
	cat      Category
}{
	{3000, 3350, CatTravel}, {3351, 3500, CatTravel}, {3501, 3999, CatTravel}, // airlines, car rental, hotels
	{4011, 4131, CatTransport}, {4111, 4112, CatTransport}, {4121, 4121, CatTransport}, {4784, 4784, CatTransport},
	{4511, 4582, CatTravel}, {4722, 4723, CatTravel}, {7011, 7012, CatTravel},
	{4812, 4816, CatTelecom}, {4899, 4899, CatTelecom},
	{4900, 4900, CatUtilities},
	{5411, 5411, CatGroceries}, {5422, 5499, CatGroceries},
	{5541, 5542, CatFuel}, {5983, 5983, CatFuel},
	{5811, 5814, CatRestaurants},
	{5912, 5912, CatHealth}, {8011, 8099, CatHealth},
	{5200, 5399, CatShopping}, {5600, 5699, CatShopping}, {5700, 5799, CatShopping}, {5900, 5999, CatShopping}, {5311, 5311, CatShopping},
	{7832, 7841, CatEntertainment}, {7911, 7999, CatEntertainment}, {5815, 5818, CatEntertainment},
	{6300, 6399, CatInsurance},
	{8211, 8299, CatEducation},
	{6513, 6513, CatHousing},
	{6010, 6012, CatTransfers}, {4829, 4829, CatTransfers},
}

var mccNames = sync.OnceValue(func() map[int]string {
	rows, err := csv.NewReader(bytes.NewReader(mccCSV)).ReadAll()
	if err != nil {
		panic("banking: embedded MCC table is broken: " + err.Error())
	}
	m := make(map[int]string, len(rows))
	for _, r := range rows[1:] {
		if n, err := strconv.Atoi(r[0]); err == nil {
			m[n] = r[1]
		}
	}
	return m
})

// MCCName returns the merchant category's description.
func MCCName(mcc int) (string, bool) {
	n, ok := mccNames()[mcc]
	return n, ok
}

// CategoryForMCC maps a merchant category code to a category.
func CategoryForMCC(mcc int) (Category, bool) {
	if _, known := mccNames()[mcc]; !known {
		return "", false
	}
	for _, r := range mccRanges {
		if mcc >= r.from && mcc <= r.to {
			return r.cat, true
		}
	}
	return CatOther, true
}

// Rule categorises transactions whose normalised merchant contains Match.
type Rule struct {
	Match    string   `json:"match"`
	Category Category `json:"category"`
	// Source is "customer", "org" or "default"; customers' own
	// corrections win over the organisation's, which win over the defaults.
	Source string `json:"source"`
}

// DefaultRules ship with the module: well-known merchants in Italy and
// beyond. Organisations add their own and customers' corrections stick.
var DefaultRules = []Rule{
	{"ESSELUNGA", CatGroceries, "default"}, {"CONAD", CatGroceries, "default"}, {"COOP", CatGroceries, "default"},
	{"CARREFOUR", CatGroceries, "default"}, {"LIDL", CatGroceries, "default"}, {"PAM", CatGroceries, "default"},
	{"ENEL", CatUtilities, "default"}, {"A2A", CatUtilities, "default"}, {"HERA", CatUtilities, "default"}, {"ACEA", CatUtilities, "default"},
	{"TIM", CatTelecom, "default"}, {"VODAFONE", CatTelecom, "default"}, {"WINDTRE", CatTelecom, "default"}, {"ILIAD", CatTelecom, "default"}, {"FASTWEB", CatTelecom, "default"},
	{"ENI", CatFuel, "default"}, {"Q8", CatFuel, "default"}, {"ESSO", CatFuel, "default"}, {"IP ", CatFuel, "default"}, {"TAMOIL", CatFuel, "default"},
	{"TRENITALIA", CatTransport, "default"}, {"ITALO", CatTransport, "default"}, {"ATM ", CatTransport, "default"}, {"UBER", CatTransport, "default"}, {"AUTOSTRADE", CatTransport, "default"},
	{"NETFLIX", CatEntertainment, "default"}, {"SPOTIFY", CatEntertainment, "default"}, {"DISNEY", CatEntertainment, "default"},
	{"AMAZON", CatShopping, "default"}, {"ZALANDO", CatShopping, "default"}, {"IKEA", CatShopping, "default"},
	{"FARMACIA", CatHealth, "default"}, {"PHARMACY", CatHealth, "default"},
	{"RYANAIR", CatTravel, "default"}, {"ITA AIRWAYS", CatTravel, "default"}, {"BOOKING.COM", CatTravel, "default"}, {"AIRBNB", CatTravel, "default"},
	{"MCDONALD", CatRestaurants, "default"}, {"RISTORANTE", CatRestaurants, "default"}, {"PIZZERIA", CatRestaurants, "default"}, {"BAR ", CatRestaurants, "default"}, {"DELIVEROO", CatRestaurants, "default"}, {"JUST EAT", CatRestaurants, "default"},
	{"STIPENDIO", CatIncome, "default"}, {"SALARY", CatIncome, "default"}, {"PAYROLL", CatIncome, "default"},
	{"AFFITTO", CatHousing, "default"}, {"RENT", CatHousing, "default"}, {"MUTUO", CatHousing, "default"}, {"CONDOMINIO", CatHousing, "default"},
	{"ASSICURAZ", CatInsurance, "default"}, {"UNIPOL", CatInsurance, "default"}, {"GENERALI", CatInsurance, "default"},
}

var nonAlnum = regexp.MustCompile(`[^A-Z0-9.& ]+`)
var spaces = regexp.MustCompile(`\s+`)

// NormalizeMerchant turns a bank description into a comparable merchant
// key: upper case, punctuation and card-terminal noise removed.
func NormalizeMerchant(desc string) string {
	s := strings.ToUpper(desc)
	for _, noise := range []string{"PAGAMENTO POS", "POS ", "CARTA ", "PAGAMENTO", "SDD ", "ADDEBITO DIRETTO", "BONIFICO A FAVORE DI", "BONIFICO"} {
		s = strings.ReplaceAll(s, noise, " ")
	}
	s = nonAlnum.ReplaceAllString(s, " ")
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

var sourceRank = map[string]int{"customer": 3, "org": 2, "default": 1}

// Categorise picks a category for a transaction: the highest-ranked rule
// whose match the normalised merchant contains (longest match breaks ties),
// else the merchant category code, else income for credits and other for
// debits.
func Categorise(desc string, mcc int, amountMinor int64, rules []Rule) Category {
	m := " " + NormalizeMerchant(desc) + " "
	var best *Rule
	for i := range rules {
		r := &rules[i]
		match := strings.ToUpper(r.Match)
		if match == "" || !strings.Contains(m, match) && !strings.Contains(m, " "+strings.TrimSpace(match)+" ") {
			continue
		}
		if best == nil || sourceRank[r.Source] > sourceRank[best.Source] ||
			sourceRank[r.Source] == sourceRank[best.Source] && len(r.Match) > len(best.Match) {
			best = r
		}
	}
	if best != nil {
		return best.Category
	}
	if mcc > 0 {
		if c, ok := CategoryForMCC(mcc); ok {
			return c
		}
	}
	if amountMinor > 0 {
		return CatIncome
	}
	return CatOther
}
