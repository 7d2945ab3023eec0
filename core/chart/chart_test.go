package chart

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
)

// italian is a stand-in translator: it marks every translated text, so
// tests can see which texts went through T.
func italian(key string, args ...any) string {
	if len(args) > 0 {
		return "IT[" + fmt.Sprintf(key, args...) + "]"
	}
	return "IT[" + key + "]"
}

// parsed is the structure of a rendered chart.
type parsed struct {
	raw      string
	svgAttrs map[string]string
	title    string
	desc     string
	titleID  string
	descID   string
	caption  string
	headers  []string
	rows     [][]string // th + td texts per body row
	footer   []string
	elements map[string]int // element name -> count inside the svg
	texts    []string       // text of <text> elements
}

// parse checks that out is well-formed XML (as XHTML) and extracts what the
// tests look at.
func parse(t *testing.T, out string) *parsed {
	t.Helper()
	p := &parsed{raw: out, svgAttrs: map[string]string{}, elements: map[string]int{}}
	dec := xml.NewDecoder(strings.NewReader(out))
	dec.Strict = true
	var stack []string
	var text strings.Builder
	var row []string
	inSVG := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not well-formed XML: %v\n%s", err, out)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := el.Name.Local
			stack = append(stack, name)
			text.Reset()
			for _, a := range el.Attr {
				if a.Name.Local == "style" {
					t.Errorf("<%s> has a style attribute (the CSP forbids inline style)", name)
				}
				if strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("<%s> has an event handler attribute %s", name, a.Name.Local)
				}
			}
			if name == "svg" {
				inSVG = true
				for _, a := range el.Attr {
					p.svgAttrs[a.Name.Local] = a.Value
				}
			}
			if inSVG {
				p.elements[name]++
			}
			if name == "title" && len(stack) >= 2 && stack[len(stack)-2] == "svg" {
				for _, a := range el.Attr {
					if a.Name.Local == "id" {
						p.titleID = a.Value
					}
				}
			}
			if name == "desc" {
				for _, a := range el.Attr {
					if a.Name.Local == "id" {
						p.descID = a.Value
					}
				}
			}
			if name == "tr" {
				row = nil
			}
		case xml.CharData:
			text.Write(el)
		case xml.EndElement:
			name := el.Name.Local
			s := strings.TrimSpace(text.String())
			parent := ""
			if len(stack) >= 2 {
				parent = stack[len(stack)-2]
			}
			switch {
			case name == "title" && parent == "svg":
				p.title = s
			case name == "desc":
				p.desc = s
			case name == "caption":
				p.caption = s
			case name == "text":
				p.texts = append(p.texts, s)
			case (name == "th" || name == "td") && contains(stack, "table"):
				if contains(stack, "thead") {
					p.headers = append(p.headers, s)
				} else {
					row = append(row, s)
				}
			case name == "tr" && contains(stack, "tbody"):
				p.rows = append(p.rows, row)
			case name == "tr" && contains(stack, "tfoot"):
				p.footer = row
			case name == "svg":
				inSVG = false
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAccessible asserts what every chart must have.
func checkAccessible(t *testing.T, p *parsed) {
	t.Helper()
	if p.svgAttrs["role"] != "img" {
		t.Errorf("svg role = %q, want img", p.svgAttrs["role"])
	}
	if p.titleID == "" || p.svgAttrs["aria-labelledby"] != p.titleID {
		t.Errorf("svg aria-labelledby = %q, title id = %q", p.svgAttrs["aria-labelledby"], p.titleID)
	}
	if p.descID == "" || p.svgAttrs["aria-describedby"] != p.descID {
		t.Errorf("svg aria-describedby = %q, desc id = %q", p.svgAttrs["aria-describedby"], p.descID)
	}
	if p.title == "" || p.desc == "" {
		t.Errorf("title %q and desc %q must not be empty", p.title, p.desc)
	}
	if !regexp.MustCompile(`^0 0 \d+ \d+$`).MatchString(p.svgAttrs["viewBox"]) {
		t.Errorf("viewBox = %q", p.svgAttrs["viewBox"])
	}
	if p.svgAttrs["width"] != "" || p.svgAttrs["height"] != "" {
		t.Error("the svg has a fixed size; it must scale to its container")
	}
	if p.caption != p.title {
		t.Errorf("table caption %q differs from the title %q", p.caption, p.title)
	}
	if !strings.Contains(p.raw, `class="chart-table"`) || !strings.Contains(p.raw, `class="chart-toggle"`) {
		t.Error("the data table or its toggle is missing")
	}
	for _, bad := range []string{"<script", "NaN", "Inf", "http://", "https://"} {
		if bad == "http://" {
			// the SVG namespace is the only URL allowed
			if strings.Count(p.raw, "http://") != 1 || !strings.Contains(p.raw, `xmlns="http://www.w3.org/2000/svg"`) {
				t.Error("output refers to a URL other than the SVG namespace")
			}
			continue
		}
		if strings.Contains(p.raw, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

func TestBarChartStructureAndLocalisedValues(t *testing.T) {
	c := Chart{Kind: Bar, Title: "Sign-ins", LabelHeader: "Day", Labels: []string{"1 Nov", "2 Nov", "3 Nov"},
		Series: []Series{{Name: "Sign-ins", Values: []float64{1234.5, 0, 3}}}, Decimals: 1}
	for _, tc := range []struct {
		lang  string
		tr    func(string, ...any) string
		value string
		title string
	}{
		{"en", nil, "1,234.5", "Sign-ins"},
		{"it", italian, "1.234,5", "IT[Sign-ins]"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := parse(t, string(Render(c, Locale{Lang: tc.lang, T: tc.tr})))
			checkAccessible(t, p)
			if p.title != tc.title {
				t.Errorf("title = %q, want %q", p.title, tc.title)
			}
			wantHead := []string{"Day", "Sign-ins"}
			if tc.tr != nil {
				wantHead = []string{"IT[Day]", "IT[Sign-ins]"}
			}
			if fmt.Sprint(p.headers) != fmt.Sprint(wantHead) {
				t.Errorf("headers = %v, want %v", p.headers, wantHead)
			}
			if len(p.rows) != 3 || p.rows[0][0] != "1 Nov" || p.rows[0][1] != tc.value || p.rows[2][1] != strings.Replace("3.0", ".", map[string]string{"en": ".", "it": ","}[tc.lang], 1) {
				t.Errorf("rows = %v", p.rows)
			}
			if p.elements["rect"] != 2 {
				t.Errorf("%d bars drawn, want 2 (a zero value draws no bar)", p.elements["rect"])
			}
			if !strings.Contains(p.desc, tc.value) || !strings.Contains(p.desc, "3 ") {
				t.Errorf("desc %q does not summarise the values", p.desc)
			}
			if tc.lang == "it" && !strings.HasPrefix(p.desc, "IT[") {
				t.Errorf("desc %q was not translated", p.desc)
			}
		})
	}
}

func TestLineChartSeriesLegendAndGaps(t *testing.T) {
	c := Chart{Kind: Line, Title: "Balance", Labels: []string{"Jan", "Feb", "Mar", "Apr"},
		Series: []Series{{Name: "Current", Values: []float64{10, math.NaN(), 30, 40}}, {Name: "Savings", Values: []float64{5, 6, 7}}}}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	checkAccessible(t, p)
	if p.elements["path"] != 2 {
		t.Fatalf("%d lines, want 2", p.elements["path"])
	}
	if p.elements["circle"] != 3+3 {
		t.Errorf("%d points, want 6 (the gap and the missing value draw none)", p.elements["circle"])
	}
	// The gap splits the first line into two sub-paths.
	if m := regexp.MustCompile(`d="(M[^"]*)"`).FindAllStringSubmatch(p.raw, -1); len(m) != 2 || strings.Count(m[0][1], "M") != 2 {
		t.Errorf("line paths %v: the NaN should start a new sub-path", m)
	}
	if !contains(p.texts, "Current") || !contains(p.texts, "Savings") {
		t.Errorf("legend missing from %v", p.texts)
	}
	if fmt.Sprint(p.rows[1]) != "[Feb — 6]" || fmt.Sprint(p.rows[3]) != "[Apr 40 —]" {
		t.Errorf("rows = %v", p.rows)
	}
}

func TestNegativeValues(t *testing.T) {
	c := Chart{Kind: Bar, Title: "Net flow", Labels: []string{"a", "b", "c"}, Series: []Series{{Values: []float64{-30, 20, -5}}}, Unit: "€"}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	checkAccessible(t, p)
	if !strings.Contains(p.raw, `class="chart-axis"`) {
		t.Error("no zero line for a chart crossing zero")
	}
	if p.rows[0][1] != "-30\u00a0€" {
		t.Errorf("negative value shown as %q", p.rows[0][1])
	}
	// Every bar has a positive height, negative ones below the zero line.
	axisY := attrFloat(t, regexp.MustCompile(`class="chart-axis"[^>]*y1="([-0-9.]+)"`).FindStringSubmatch(p.raw)[1])
	for _, m := range regexp.MustCompile(`<rect x="[-0-9.]+" y="([-0-9.]+)" width="[-0-9.]+" height="([-0-9.]+)"`).FindAllStringSubmatch(p.raw, -1) {
		y, h := attrFloat(t, m[1]), attrFloat(t, m[2])
		if h <= 0 {
			t.Errorf("bar with height %v", h)
		}
		if y < axisY-0.01 && y+h > axisY+0.01 {
			t.Errorf("bar %v..%v straddles the zero line %v", y, y+h, axisY)
		}
	}
	if !strings.Contains(p.desc, "-30") || !strings.Contains(p.desc, "20") {
		t.Errorf("desc %q", p.desc)
	}
	// Tick labels include a negative and zero.
	if !contains(p.texts, "0") || !anyHasPrefix(p.texts, "-") {
		t.Errorf("ticks %v lack zero or a negative value", p.texts)
	}
}

func anyHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func attrFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}

func TestEmptyCharts(t *testing.T) {
	for _, c := range []Chart{
		{Kind: Bar, Title: "Nothing"},
		{Kind: Line, Title: "Nothing", Series: []Series{{Name: "x"}}},
		{Kind: Line, Title: "All gaps", Labels: []string{"a"}, Series: []Series{{Values: []float64{math.NaN()}}}},
		{Kind: Donut, Title: "Nothing"},
		{Kind: "pie", Title: "Unknown kind"},
	} {
		t.Run(string(c.Kind)+" "+c.Title, func(t *testing.T) {
			p := parse(t, string(Render(c, Locale{Lang: "it", T: italian})))
			checkAccessible(t, p)
			if !strings.Contains(p.desc, "No data") {
				t.Errorf("desc %q does not say there is no data", p.desc)
			}
			if c.Labels == nil && (len(p.rows) != 1 || !strings.Contains(p.rows[0][0], "IT[No data")) {
				t.Errorf("table rows %v: want one row saying there is no data", p.rows)
			}
			if p.elements["rect"]+p.elements["path"] > 1 || p.elements["circle"] > 1 {
				t.Errorf("an empty chart drew data: %v", p.elements)
			}
		})
	}
}

func TestOnePoint(t *testing.T) {
	for _, kind := range []Kind{Line, Bar} {
		c := Chart{Kind: kind, Title: "One", Labels: []string{"today"}, Series: []Series{{Values: []float64{7}}}}
		p := parse(t, string(Render(c, Locale{Lang: "en"})))
		checkAccessible(t, p)
		if kind == Line && p.elements["circle"] != 1 {
			t.Errorf("line with one point draws %d markers", p.elements["circle"])
		}
		if kind == Bar && p.elements["rect"] != 1 {
			t.Errorf("bar with one point draws %d bars", p.elements["rect"])
		}
		if len(p.rows) != 1 || p.rows[0][1] != "7" {
			t.Errorf("%s rows = %v", kind, p.rows)
		}
	}
	// A constant series still gets a scale (no division by zero).
	c := Chart{Kind: Line, Title: "Flat", Labels: []string{"a", "b"}, Series: []Series{{Values: []float64{0, 0}}}}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	checkAccessible(t, p)
}

func TestDonut(t *testing.T) {
	c := Chart{Kind: Donut, Title: "Users by role", Labels: []string{"Customers", "Staff", "Admins"},
		Series: []Series{{Name: "Users", Values: []float64{6, 3, 1}}}}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	checkAccessible(t, p)
	if p.elements["circle"] != 1+3 {
		t.Errorf("%d circles, want a track and 3 slices", p.elements["circle"])
	}
	if fmt.Sprint(p.rows) != "[[Customers 6 60%] [Staff 3 30%] [Admins 1 10%]]" || fmt.Sprint(p.footer) != "[Total 10 100%]" {
		t.Errorf("rows %v footer %v", p.rows, p.footer)
	}
	if !strings.Contains(p.desc, "3 parts") || !strings.Contains(p.desc, "Customers") || !strings.Contains(p.desc, "60%") {
		t.Errorf("desc %q", p.desc)
	}
	// The dash lengths of the slices add up to the circumference.
	sum := 0.0
	for _, m := range regexp.MustCompile(`stroke-dasharray="([0-9.]+) `).FindAllStringSubmatch(p.raw, -1) {
		sum += attrFloat(t, m[1])
	}
	if circ := 2 * math.Pi * 65; math.Abs(sum-circ) > 0.05 {
		t.Errorf("slices cover %.2f of %.2f", sum, circ)
	}

	// One slice of 100%: one full ring.
	one := parse(t, string(Render(Chart{Kind: Donut, Title: "All", Labels: []string{"only"}, Series: []Series{{Values: []float64{5}}}}, Locale{Lang: "en"})))
	if one.elements["circle"] != 2 || !strings.Contains(one.raw, "100%") {
		t.Errorf("single slice: %v", one.elements)
	}
}

func TestDonutZeroTotalAndNegative(t *testing.T) {
	c := Chart{Kind: Donut, Title: "Nothing yet", Labels: []string{"a", "b"}, Series: []Series{{Values: []float64{0, -4}}}}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	checkAccessible(t, p)
	if p.elements["circle"] != 1 {
		t.Errorf("zero total drew %d circles, want only the track", p.elements["circle"])
	}
	if !strings.Contains(p.desc, "all zero") {
		t.Errorf("desc %q", p.desc)
	}
	if fmt.Sprint(p.rows) != "[[a 0 —] [b -4 —]]" || fmt.Sprint(p.footer) != "[Total 0 —]" {
		t.Errorf("rows %v footer %v", p.rows, p.footer)
	}
}

func TestDonutManySlicesLegend(t *testing.T) {
	var labels []string
	var vals []float64
	for i := 0; i < 12; i++ {
		labels = append(labels, fmt.Sprintf("part %d", i))
		vals = append(vals, float64(i+1))
	}
	p := parse(t, string(Render(Chart{Kind: Donut, Title: "Many", Labels: labels, Series: []Series{{Values: vals}}}, Locale{Lang: "en"})))
	checkAccessible(t, p)
	if len(p.rows) != 12 {
		t.Errorf("table has %d rows, want all 12", len(p.rows))
	}
	if !anyHasPrefix(p.texts, "and 6 more") {
		t.Errorf("legend does not summarise the rest: %v", p.texts)
	}
}

func TestProgress(t *testing.T) {
	for _, tc := range []struct {
		value, max float64
		pct        string
		bar        bool
	}{
		{45, 100, "45%", true},
		{150, 100, "100%", true},
		{-3, 100, "0%", false},
		{5, 0, "0%", false},
		{math.NaN(), 10, "0%", false},
	} {
		c := Chart{Kind: Progress, Title: "Profile complete", Value: tc.value, Max: tc.max}
		p := parse(t, string(Render(c, Locale{Lang: "en"})))
		checkAccessible(t, p)
		if len(p.rows) != 1 || p.rows[0][2] != tc.pct {
			t.Errorf("%v/%v: rows %v, want %s", tc.value, tc.max, p.rows, tc.pct)
		}
		if bars := strings.Count(p.raw, `class="chart-bar`); (bars == 1) != tc.bar {
			t.Errorf("%v/%v: %d filled bars", tc.value, tc.max, bars)
		}
		if !strings.Contains(p.desc, tc.pct) {
			t.Errorf("desc %q lacks %s", p.desc, tc.pct)
		}
	}
}

func TestManyLabelsAreThinned(t *testing.T) {
	var labels []string
	var vals []float64
	for i := 1; i <= 30; i++ {
		labels = append(labels, fmt.Sprintf("%d Nov", i))
		vals = append(vals, float64(i%4))
	}
	p := parse(t, string(Render(Chart{Kind: Bar, Title: "Thirty days", Labels: labels, Series: []Series{{Values: vals}}}, Locale{Lang: "en"})))
	checkAccessible(t, p)
	shown := 0
	for _, s := range p.texts {
		if strings.HasSuffix(s, " Nov") {
			shown++
		}
	}
	if shown == 0 || shown > 10 {
		t.Errorf("%d of 30 category labels drawn; want a readable few", shown)
	}
	if len(p.rows) != 30 {
		t.Errorf("the table must keep all 30 rows, has %d", len(p.rows))
	}
}

func TestEscapingAndIDs(t *testing.T) {
	c := Chart{Kind: Bar, Title: `<script>alert("x")</script>`, ID: `"><bad id`, Labels: []string{"a&b"}, Series: []Series{{Name: "<i>", Values: []float64{1}}}}
	out := string(Render(c, Locale{Lang: "en"}))
	p := parse(t, out)
	checkAccessible(t, p)
	if strings.Contains(out, "<script") || strings.Contains(out, "<i>") || strings.Contains(out, "<bad") {
		t.Error("text was not escaped")
	}
	if !strings.Contains(out, `id="cbadid"`) && !strings.Contains(out, `id="badid"`) {
		t.Errorf("ID not sanitised: %s", out[:120])
	}
	a := parse(t, string(Render(Chart{Kind: Bar, Title: "A"}, Locale{})))
	b := parse(t, string(Render(Chart{Kind: Bar, Title: "B"}, Locale{})))
	if a.titleID == b.titleID {
		t.Error("two charts on one page share element IDs")
	}
	// No title: the kind names the image.
	if n := parse(t, string(Render(Chart{Kind: Line}, Locale{}))); n.title != "Line chart" {
		t.Errorf("untitled chart named %q", n.title)
	}
}

func TestSeriesJSONCarriesGapsAsNull(t *testing.T) {
	c := Chart{Kind: Line, Title: "t", Series: []Series{{Name: "s", Values: []float64{1, math.NaN(), math.Inf(1)}}}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"values":[1,null,null]`) {
		t.Errorf("JSON %s", b)
	}
	var back Chart
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if v := back.Series[0].Values; len(v) != 3 || v[0] != 1 || !math.IsNaN(v[1]) {
		t.Errorf("round trip: %v", v)
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct{ lo, hi, wlo, whi, wstep float64 }{
		{0, 3, 0, 3, 1},
		{0, 7, 0, 8, 2},
		{-30, 20, -30, 20, 10},
		{0, 0.35, 0, 0.4, 0.1},
		{1000, 1234, 1000, 1300, 100},
	} {
		lo, hi, step := niceScale(tc.lo, tc.hi, 5)
		if math.Abs(lo-tc.wlo) > 1e-9 || math.Abs(hi-tc.whi) > 1e-9 || math.Abs(step-tc.wstep) > 1e-9 {
			t.Errorf("niceScale(%v, %v) = %v %v %v, want %v %v %v", tc.lo, tc.hi, lo, hi, step, tc.wlo, tc.whi, tc.wstep)
		}
	}
	if decimalsFor(0.1) != 1 || decimalsFor(0.25) != 1 || decimalsFor(0.05) != 2 || decimalsFor(2) != 0 {
		t.Error("decimalsFor")
	}
}

func TestEveryMessageHasAnItalianTranslation(t *testing.T) {
	b, err := translationFS.ReadFile("i18n/it.json")
	if err != nil {
		t.Fatal(err)
	}
	var it map[string]string
	if err := json.Unmarshal(b, &it); err != nil {
		t.Fatal(err)
	}
	for _, m := range messages {
		tr := it[m]
		if strings.TrimSpace(tr) == "" {
			t.Errorf("no Italian translation for %q", m)
			continue
		}
		if strings.Count(tr, "%") != strings.Count(m, "%") {
			t.Errorf("translation of %q has different verbs: %q", m, tr)
		}
	}
	if len(it) != len(messages) {
		t.Errorf("it.json has %d entries, the renderer uses %d", len(it), len(messages))
	}
}

func BenchmarkRenderBar30(b *testing.B) {
	var labels []string
	var vals []float64
	for i := 1; i <= 30; i++ {
		labels = append(labels, fmt.Sprintf("%d Nov", i))
		vals = append(vals, float64(i%4))
	}
	c := Chart{Kind: Bar, Title: "Sign-ins", Labels: labels, Series: []Series{{Values: vals}}}
	for b.Loop() {
		_ = Render(c, Locale{Lang: "it"})
	}
}

func TestCountsGetWholeNumberTicks(t *testing.T) {
	c := Chart{Kind: Bar, Title: "Sign-ins", Labels: []string{"a", "b", "c"}, Series: []Series{{Values: []float64{0, 1, 0}}}}
	p := parse(t, string(Render(c, Locale{Lang: "en"})))
	for _, s := range p.texts {
		if strings.Contains(s, ".") {
			t.Errorf("tick %q on a chart of counts", s)
		}
	}
	if !contains(p.texts, "0") || !contains(p.texts, "1") {
		t.Errorf("ticks %v", p.texts)
	}
	// Fractions keep fractional ticks.
	f := parse(t, string(Render(Chart{Kind: Line, Title: "Rate", Labels: []string{"a", "b"}, Series: []Series{{Values: []float64{0.1, 0.35}}}, Decimals: 2}, Locale{Lang: "en"})))
	if !anyHasPrefix(f.texts, "0.") {
		t.Errorf("fraction ticks %v", f.texts)
	}
}

// Labels that are keys (a module's categories) are translated; labels that
// are data are shown as they are.
func TestLabelsAreKeysAreTranslated(t *testing.T) {
	it := func(key string, args ...any) string {
		return map[string]string{"groceries": "Spesa", "Spending": "Spese"}[key]
	}
	c := Chart{Kind: Bar, Title: "Spending", Labels: []string{"groceries"}, Series: []Series{{Values: []float64{12}}}}
	if out := string(Render(c, Locale{Lang: "it", T: it})); strings.Contains(out, "Spesa") || !strings.Contains(out, "groceries") {
		t.Errorf("a data label was translated, or is missing:\n%s", out)
	}
	c.LabelsAreKeys = true
	if out := string(Render(c, Locale{Lang: "it", T: it})); !strings.Contains(out, "Spesa") || strings.Contains(out, "groceries") {
		t.Errorf("a key label was not translated:\n%s", out)
	}
}

// A line or bar chart names its axes: the values' name with the unit, and
// the categories' header, translated.
func TestAxesAreNamed(t *testing.T) {
	it := func(key string, args ...any) string {
		if v, ok := map[string]string{"Voltage": "Tensione", "Day": "Giorno"}[key]; ok {
			return v
		}
		return key
	}
	c := Chart{Kind: Line, Title: "Battery", ValueName: "Voltage", Unit: "V", LabelHeader: "Day",
		Labels: []string{"1", "2"}, Series: []Series{{Values: []float64{12.1, 12.4}}}}
	out := string(Render(c, Locale{Lang: "it", T: it}))
	if !strings.Contains(out, `class="chart-text chart-axis-name"`) || !strings.Contains(out, ">Tensione (V)</text>") || !strings.Contains(out, ">Giorno</text>") {
		t.Errorf("the axes are not named in Italian:\n%s", out)
	}
	c.ValueName, c.LabelHeader = "", ""
	if out := string(Render(c, Locale{Lang: "it", T: it})); strings.Contains(out, "chart-axis-name") {
		t.Errorf("a chart without names drew an axis name:\n%s", out)
	}
}
