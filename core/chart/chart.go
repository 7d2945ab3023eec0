// Package chart renders line, bar, donut and progress charts on the server
// as accessible SVG for portal pages and dashboard widgets.
//
// Every chart comes out as one <figure>: an <svg role="img"> labelled by its
// <title> and described by a <desc> that summarises the data in words, and
// a <table> of the same data. The table is visually hidden but read by
// screen readers, shown when CSS is unavailable, and shown on demand by a
// "Show the data" checkbox (pure CSS: no script). The SVG has a viewBox and
// no fixed size, so it scales to its container on a phone. Colours and text
// come from classes in core/web/static/portal.css (the series colour follows
// the organisation's brand colour); presentation attributes (fill, stroke,
// font-size) give a readable fallback. Nothing uses a style attribute, so the
// portal's Content-Security-Policy (no inline style) holds.
//
// Numbers are formatted for the viewer's language with core/i18n; titles,
// descriptions, series names and the label column header are English keys
// translated with the Locale's T. Category labels are data and are shown as
// given (a data function formats dates for the viewer itself).
//
// Pages render a chart with {{.Chart .Data.MyChart}} (web.Page.Chart).
//
// chart imports only core/i18n.
package chart

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/portalkit/portalkit/core/i18n"
)

// Kind is the type of a chart.
type Kind string

// The kinds of chart.
const (
	// Line draws each series as a line over the labels (a trend over time).
	Line Kind = "line"
	// Bar draws each series as bars over the labels, grouped when there are
	// several series; negative values hang below the zero line.
	Bar Kind = "bar"
	// Donut draws the first series as parts of a whole, one slice per
	// label. Negative values count as zero.
	Donut Kind = "donut"
	// Progress draws Value out of Max as a filled bar.
	Progress Kind = "progress"
)

// Series is one row of values, one per label. A NaN value is a gap: no
// point, no bar, "—" in the table, and null in JSON.
type Series struct {
	Name   string    `json:"name,omitempty"`
	Values []float64 `json:"values"`
}

// MarshalJSON writes NaN and infinite values as null, which JSON can carry
// and encoding/json otherwise refuses.
func (s Series) MarshalJSON() ([]byte, error) {
	vals := make([]*float64, len(s.Values))
	for i := range s.Values {
		if v := s.Values[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals[i] = &s.Values[i]
		}
	}
	return json.Marshal(struct {
		Name   string     `json:"name,omitempty"`
		Values []*float64 `json:"values"`
	}{s.Name, vals})
}

// UnmarshalJSON reads null values as NaN (gaps).
func (s *Series) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name   string     `json:"name"`
		Values []*float64 `json:"values"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s.Name = raw.Name
	s.Values = make([]float64, len(raw.Values))
	for i, v := range raw.Values {
		if v == nil {
			s.Values[i] = math.NaN()
		} else {
			s.Values[i] = *v
		}
	}
	return nil
}

// Chart is the data of one chart. It is plain data, so a widget's data
// function can return it and the JSON API carries it to mobile apps as is.
type Chart struct {
	Kind Kind `json:"kind"`
	// Title names the chart (English; translated when rendered). It is the
	// SVG's accessible name and the table's caption.
	Title string `json:"title"`
	// Description says what the chart shows (English; translated). When
	// empty, a summary of the data is generated: count, lowest, highest or
	// total, in words.
	Description string `json:"description,omitempty"`
	// LabelHeader heads the label column of the table, e.g. "Day"
	// (English; translated). Default "Category". A line or bar chart also
	// names its horizontal axis with it.
	LabelHeader string `json:"label_header,omitempty"`
	// ValueName names the vertical axis of a line or bar chart, e.g.
	// "Voltage" (English; translated; the Unit follows it in brackets).
	ValueName string `json:"value_name,omitempty"`
	// Labels name the points (line, bar) or slices (donut), in order.
	Labels []string `json:"labels,omitempty"`
	// LabelsAreKeys says the labels are English keys (a module's
	// categories: "groceries"), translated when rendered; otherwise they
	// are data (a merchant, a day) and shown as they are.
	LabelsAreKeys bool `json:"labels_are_keys,omitempty"`
	// Series are the values; donuts use the first series.
	Series []Series `json:"series,omitempty"`
	// Value and Max are a progress chart's data.
	Value float64 `json:"value,omitempty"`
	Max   float64 `json:"max,omitempty"`
	// Decimals is how many digits follow the decimal separator in labels
	// and the table.
	Decimals int `json:"decimals,omitempty"`
	// Unit follows every value ("%", "km", "€"); not translated.
	Unit string `json:"unit,omitempty"`
	// ID is the element ID prefix; unique IDs are generated when empty.
	ID string `json:"-"`
}

// Locale is how a chart is rendered for one viewer.
type Locale struct {
	// Lang is the viewer's language ("en", "it"), for number formatting.
	Lang string
	// T translates an English key (with fmt.Sprintf arguments); nil leaves
	// text in English.
	T func(key string, args ...any) string
}

// t translates a key that is not a format.
func (l Locale) t(key string) string {
	if l.T != nil {
		return l.T(key)
	}
	return key
}

// tf translates a format and fills it in.
func (l Locale) tf(format string, args ...any) string {
	if l.T != nil {
		return l.T(format, args...)
	}
	return fmt.Sprintf(format, args...)
}

// Messages the renderer translates. Every one has an Italian translation in
// i18n/it.json (checked by a test).
const (
	msgNoData      = "No data to show."
	msgShowData    = "Show the data as a table"
	msgCategory    = "Category"
	msgValue       = "Value"
	msgShare       = "Share"
	msgTotal       = "Total"
	msgTarget      = "Target"
	msgProgress    = "Progress"
	msgLineChart   = "Line chart"
	msgBarChart    = "Bar chart"
	msgDonutChart  = "Donut chart"
	msgSeriesSum   = "%s: %d values, lowest %s (%s), highest %s (%s)."
	msgKindSummary = "%s of %d points."
	msgDonutSum    = "Donut chart of %d parts, total %s. Largest: %s, %s (%s)."
	msgDonutZero   = "Donut chart of %d parts, all zero."
	msgProgressSum = "%s of %s (%s)."
	msgMore        = "and %d more"
)

var messages = []string{msgNoData, msgShowData, msgCategory, msgValue, msgShare, msgTotal, msgTarget, msgProgress,
	msgLineChart, msgBarChart, msgDonutChart, msgSeriesSum, msgKindSummary, msgDonutSum, msgDonutZero, msgProgressSum, msgMore}

//go:embed i18n/*.json
var translationFS embed.FS

// Translations returns the renderer's own translations ("<locale>.json"),
// for the web server's catalog.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

var idCounter atomic.Uint64

// Render returns the chart as a <figure> holding the SVG and its data
// table, for the viewer l. It never fails: a chart without data renders as
// an empty frame saying so.
func Render(c Chart, l Locale) template.HTML {
	r := &renderer{c: c, l: l}
	return template.HTML(r.render())
}

// HTML is Render as a method, for templates holding a Chart value.
func (c Chart) HTML(l Locale) template.HTML { return Render(c, l) }

// Geometry of the SVG user space. Phones show a 360-unit-wide chart at
// about its natural size, so 12-unit text stays legible; wider screens scale
// it up.
const (
	width      = 360.0
	height     = 200.0
	fontSize   = 13.0
	charWidth  = 0.58 * fontSize // average glyph advance of a sans-serif face
	progressH  = 44.0
	maxLabel   = 14 // runes of a category label before it is shortened
	maxLegend  = 7  // donut legend entries before "and N more"
	paletteLen = 8
)

// fallback colours (presentation attributes) for when portal.css is not
// loaded; the classes chart-c0..7 override them with the brand palette.
var fallback = [paletteLen]string{"#1f5fbf", "#d55e00", "#009e73", "#cc79a7", "#0072b2", "#e69f00", "#56b4e9", "#6b6b6b"}

type renderer struct {
	c  Chart
	l  Locale
	id string
	b  strings.Builder
}

func (r *renderer) render() string {
	r.id = sanitizeID(r.c.ID)
	if r.id == "" {
		r.id = "chart-" + strconv.FormatUint(idCounter.Add(1), 10)
	}
	kind := r.c.Kind
	switch kind {
	case Line, Bar, Donut, Progress:
	default:
		kind = Bar
	}
	r.c.Kind = kind
	r.w(`<figure class="chart chart-`, string(kind), `" id="`, r.id, `">`)
	r.svg()
	r.w(`<input type="checkbox" class="chart-toggle" id="`, r.id, `-show" />`)
	r.w(`<label class="chart-toggle-label" for="`, r.id, `-show">`, esc(r.l.t(msgShowData)), `</label>`)
	r.table()
	r.w(`</figure>`)
	return r.b.String()
}

func (r *renderer) w(parts ...string) {
	for _, p := range parts {
		r.b.WriteString(p)
	}
}

func (r *renderer) svg() {
	h := height
	if r.c.Kind == Progress {
		h = progressH
	}
	r.w(`<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 `, num(width), ` `, num(h),
		`" role="img" aria-labelledby="`, r.id, `-title" aria-describedby="`, r.id, `-desc" focusable="false">`)
	r.w(`<title id="`, r.id, `-title">`, esc(r.title()), `</title>`)
	r.w(`<desc id="`, r.id, `-desc">`, esc(r.description()), `</desc>`)
	switch r.c.Kind {
	case Progress:
		r.progress()
	case Donut:
		if r.points() == 0 {
			r.empty(h)
		} else {
			r.donut()
		}
	default:
		if r.points() == 0 || r.finiteCount() == 0 {
			r.empty(h)
		} else {
			r.axes()
		}
	}
	r.w(`</svg>`)
}

// points is the number of labelled points: the longest of the labels and
// the series.
func (r *renderer) points() int {
	n := len(r.c.Labels)
	for _, s := range r.series() {
		if len(s.Values) > n {
			n = len(s.Values)
		}
	}
	return n
}

func (r *renderer) series() []Series {
	if r.c.Kind == Donut && len(r.c.Series) > 1 {
		return r.c.Series[:1]
	}
	return r.c.Series
}

func (r *renderer) finiteCount() int {
	n := 0
	for _, s := range r.series() {
		for _, v := range s.Values {
			if finite(v) {
				n++
			}
		}
	}
	return n
}

func (r *renderer) label(i int) string {
	if i < len(r.c.Labels) {
		if r.c.LabelsAreKeys {
			return r.l.t(r.c.Labels[i])
		}
		return r.c.Labels[i]
	}
	return strconv.Itoa(i + 1)
}

func value(s Series, i int) float64 {
	if i < len(s.Values) {
		return s.Values[i]
	}
	return math.NaN()
}

func (r *renderer) seriesName(i int) string {
	s := r.series()
	if i < len(s) && s[i].Name != "" {
		return r.l.t(s[i].Name)
	}
	if len(s) <= 1 {
		return r.l.t(msgValue)
	}
	return r.l.t(msgValue) + " " + strconv.Itoa(i+1)
}

// fmtValue formats a value with the chart's decimals and unit.
func (r *renderer) fmtValue(v float64) string {
	if !finite(v) {
		return "—"
	}
	s := i18n.FormatFloat(r.l.Lang, v, r.c.Decimals)
	switch r.c.Unit {
	case "":
		return s
	case "%":
		return s + "%"
	}
	return s + "\u00a0" + r.c.Unit
}

func (r *renderer) percent(v float64) string {
	return i18n.FormatFloat(r.l.Lang, v*100, 0) + "%"
}

func (r *renderer) empty(h float64) {
	r.w(`<rect class="chart-frame" x="0.5" y="0.5" width="`, num(width-1), `" height="`, num(h-1), `" rx="6" fill="none" stroke="#d9dee7" />`)
	r.w(`<text class="chart-text chart-empty" x="`, num(width/2), `" y="`, num(h/2+fontSize/3), `" text-anchor="middle" font-size="`, num(fontSize), `" fill="#5b6474">`, esc(r.l.t(msgNoData)), `</text>`)
}

// title is the chart's translated title, or its kind when it has none (an
// image needs a name).
func (r *renderer) title() string {
	if strings.TrimSpace(r.c.Title) != "" {
		return r.l.t(r.c.Title)
	}
	switch r.c.Kind {
	case Line:
		return r.l.t(msgLineChart)
	case Donut:
		return r.l.t(msgDonutChart)
	case Progress:
		return r.l.t(msgProgress)
	}
	return r.l.t(msgBarChart)
}

// description is the chart's Description, or a summary of its data.
func (r *renderer) description() string {
	if r.c.Description != "" {
		return r.l.t(r.c.Description)
	}
	switch r.c.Kind {
	case Progress:
		return r.l.tf(msgProgressSum, r.fmtValue(r.c.Value), r.fmtValue(r.c.Max), r.percent(r.progressFraction()))
	case Donut:
		vals, total := r.donutValues()
		if len(vals) == 0 {
			return r.l.t(msgNoData)
		}
		if total == 0 {
			return r.l.tf(msgDonutZero, len(vals))
		}
		big := 0
		for i, v := range vals {
			if v > vals[big] {
				big = i
			}
		}
		return r.l.tf(msgDonutSum, len(vals), r.fmtValue(total), r.label(big), r.fmtValue(vals[big]), r.percent(vals[big]/total))
	}
	if r.points() == 0 || r.finiteCount() == 0 {
		return r.l.t(msgNoData)
	}
	kind := r.l.t(msgBarChart)
	if r.c.Kind == Line {
		kind = r.l.t(msgLineChart)
	}
	parts := []string{r.l.tf(msgKindSummary, kind, r.points())}
	for si, s := range r.series() {
		lo, hi, n := -1, -1, 0
		for i, v := range s.Values {
			if !finite(v) {
				continue
			}
			n++
			if lo < 0 || v < s.Values[lo] {
				lo = i
			}
			if hi < 0 || v > s.Values[hi] {
				hi = i
			}
		}
		if n == 0 {
			continue
		}
		parts = append(parts, r.l.tf(msgSeriesSum, r.seriesName(si), n, r.fmtValue(s.Values[lo]), r.label(lo), r.fmtValue(s.Values[hi]), r.label(hi)))
	}
	return strings.Join(parts, " ")
}

// axes draws a line or bar chart: grid, value ticks, category labels, the
// legend for several series, and the data.
func (r *renderer) axes() {
	series := r.series()
	n := r.points()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if r.c.Kind == Bar {
		// Bars grow from zero, so zero is always on the scale.
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	if lo == hi {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = math.Min(lo, 0), math.Max(hi, 0)
		}
	}
	tlo, thi, step := niceScale(lo, hi, 5)
	if step < 1 && r.c.Decimals == 0 && r.wholeNumbers() {
		// Counts get whole-number ticks: no "0.5 sign-ins".
		step = 1
		tlo, thi = math.Floor(lo), math.Ceil(hi)
	}
	tickDec := decimalsFor(step)
	if r.c.Decimals > tickDec {
		tickDec = r.c.Decimals
	}
	ticks := []float64{}
	for v := tlo; v <= thi+step/2; v += step {
		ticks = append(ticks, roundTo(v, tickDec+2))
	}
	tickText := make([]string, len(ticks))
	widest := 0
	for i, v := range ticks {
		tickText[i] = i18n.FormatFloat(r.l.Lang, v, tickDec)
		if l := runeLen(tickText[i]); l > widest {
			widest = l
		}
	}
	top := 10.0
	if len(series) > 1 {
		top = 28 // room for the legend
	}
	yName, xName := r.axisNames()
	if yName != "" {
		top += fontSize + 6
	}
	left := float64(widest)*charWidth + 10
	right, bottom := 10.0, 24.0
	if xName != "" {
		bottom += fontSize + 4
	}
	plotW, plotH := width-left-right, height-top-bottom
	y := func(v float64) float64 { return top + plotH*(thi-v)/(thi-tlo) }

	if len(series) > 1 {
		r.legend(series)
	}
	// The axes' names: the values' above the value labels, the categories'
	// under the category labels, at the right.
	if yName != "" || xName != "" {
		r.w(`<g class="chart-text chart-axis-name" font-size="`, num(fontSize), `" fill="#3b4352">`)
		if yName != "" {
			r.w(`<text x="0" y="`, num(top-fontSize/2-2), `" text-anchor="start">`, esc(yName), `</text>`)
		}
		if xName != "" {
			r.w(`<text x="`, num(width-right), `" y="`, num(height-3), `" text-anchor="end">`, esc(xName), `</text>`)
		}
		r.w(`</g>`)
	}
	// Grid and value labels.
	r.w(`<g class="chart-grid" stroke="#d9dee7" stroke-width="1">`)
	for _, v := range ticks {
		yy := num(y(v))
		r.w(`<line x1="`, num(left), `" x2="`, num(width-right), `" y1="`, yy, `" y2="`, yy, `" />`)
	}
	r.w(`</g><g class="chart-text" font-size="`, num(fontSize), `" fill="#5b6474" text-anchor="end">`)
	for i, v := range ticks {
		r.w(`<text x="`, num(left-5), `" y="`, num(y(v)+fontSize/3), `">`, esc(tickText[i]), `</text>`)
	}
	r.w(`</g>`)
	if tlo < 0 && thi > 0 {
		yy := num(y(0))
		r.w(`<line class="chart-axis" x1="`, num(left), `" x2="`, num(width-right), `" y1="`, yy, `" y2="`, yy, `" stroke="#5b6474" stroke-width="1" />`)
	}

	// Category positions: the middle of equal slots, for bars and for a
	// line's points alike, so every label can be centred under its point.
	slot := plotW / float64(n)
	x := func(i int) float64 { return left + slot*(float64(i)+0.5) }

	// Category labels, thinned so they do not overlap.
	longest := 1
	for i := 0; i < n; i++ {
		if l := runeLen(shorten(r.label(i))); l > longest {
			longest = l
		}
	}
	fit := int(plotW / (float64(longest)*charWidth + 8))
	if fit < 1 {
		fit = 1
	}
	every := (n + fit - 1) / fit
	r.w(`<g class="chart-text" font-size="`, num(fontSize), `" fill="#5b6474" text-anchor="middle">`)
	for i := 0; i < n; i += every {
		r.w(`<text x="`, num(x(i)), `" y="`, num(height-bottom+fontSize+4), `">`, esc(shorten(r.label(i))), `</text>`)
	}
	r.w(`</g>`)

	if r.c.Kind == Bar {
		group := slot * 0.72
		bw := group / float64(len(series))
		for si, s := range series {
			c := si % paletteLen
			r.w(`<g class="chart-bar chart-c`, strconv.Itoa(c), `" fill="`, fallback[c], `">`)
			for i := 0; i < n; i++ {
				v := value(s, i)
				if !finite(v) || v == 0 {
					continue // a gap or a zero draws no bar
				}
				x0 := x(i) - group/2 + bw*float64(si)
				y0, y1 := y(math.Max(v, 0)), y(math.Min(v, 0))
				h := y1 - y0
				if h < 1 {
					h = 1 // a tiny value stays visible
				}
				r.w(`<rect x="`, num(x0), `" y="`, num(y0), `" width="`, num(math.Max(bw-1, 1)), `" height="`, num(h), `">`,
					`<title>`, esc(r.label(i)+": "+r.fmtValue(v)), `</title></rect>`)
			}
			r.w(`</g>`)
		}
		return
	}
	for si, s := range series {
		c := si % paletteLen
		var d strings.Builder
		pen := false
		for i := 0; i < n; i++ {
			v := value(s, i)
			if !finite(v) {
				pen = false
				continue
			}
			if pen {
				d.WriteString(" L")
			} else {
				if d.Len() > 0 {
					d.WriteByte(' ')
				}
				d.WriteString("M")
			}
			d.WriteString(num(x(i)) + " " + num(y(v)))
			pen = true
		}
		r.w(`<path class="chart-line chart-c`, strconv.Itoa(c), `" d="`, d.String(), `" fill="none" stroke="`, fallback[c], `" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round" />`)
		radius := "3"
		if n > 20 {
			radius = "2"
		}
		r.w(`<g class="chart-point chart-c`, strconv.Itoa(c), `" fill="`, fallback[c], `">`)
		for i := 0; i < n; i++ {
			v := value(s, i)
			if !finite(v) {
				continue
			}
			r.w(`<circle cx="`, num(x(i)), `" cy="`, num(y(v)), `" r="`, radius, `"><title>`, esc(r.label(i)+": "+r.fmtValue(v)), `</title></circle>`)
		}
		r.w(`</g>`)
	}
}

// axisNames are the translated names of the value axis (with the unit)
// and of the category axis; empty when the chart does not name them.
func (r *renderer) axisNames() (yName, xName string) {
	if r.c.ValueName != "" {
		yName = r.l.t(r.c.ValueName)
		if r.c.Unit != "" {
			yName += " (" + r.c.Unit + ")"
		}
	}
	if r.c.LabelHeader != "" {
		xName = r.l.t(r.c.LabelHeader)
	}
	return yName, xName
}

func (r *renderer) legend(series []Series) {
	x := 0.0
	r.w(`<g class="chart-legend chart-text" font-size="`, num(fontSize), `" fill="#5b6474">`)
	for si := range series {
		c := si % paletteLen
		name := shorten(r.seriesName(si))
		r.w(`<rect class="chart-swatch chart-c`, strconv.Itoa(c), `" x="`, num(x), `" y="2" width="12" height="12" rx="2" fill="`, fallback[c], `" />`)
		r.w(`<text x="`, num(x+16), `" y="12">`, esc(name), `</text>`)
		x += 16 + float64(runeLen(name))*charWidth + 14
	}
	r.w(`</g>`)
}

// wholeNumbers reports whether every value is a whole number (counts).
func (r *renderer) wholeNumbers() bool {
	for _, s := range r.series() {
		for _, v := range s.Values {
			if finite(v) && v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}

// donutValues returns the first series' values, one per label, with
// negative and missing values counted as zero.
func (r *renderer) donutValues() ([]float64, float64) {
	n := r.points()
	var s Series
	if ss := r.series(); len(ss) > 0 {
		s = ss[0]
	}
	vals := make([]float64, n)
	total := 0.0
	for i := range vals {
		if v := value(s, i); finite(v) && v > 0 {
			vals[i] = v
			total += v
		}
	}
	return vals, total
}

func (r *renderer) donut() {
	vals, total := r.donutValues()
	const cx, cy, ro, ri = 100.0, 100.0, 80.0, 50.0
	rm, sw := (ro+ri)/2, ro-ri
	circ := 2 * math.Pi * rm
	// The track shows when everything is zero and under thin slices.
	r.w(`<circle class="chart-track" cx="`, num(cx), `" cy="`, num(cy), `" r="`, num(rm), `" fill="none" stroke="#e6eaf0" stroke-width="`, num(sw), `" />`)
	if total > 0 {
		// Each slice is a dashed stroke of the ring, rotated to start at
		// 12 o'clock: exact for one slice of 100% and cheap to draw.
		r.w(`<g transform="rotate(-90 `, num(cx), ` `, num(cy), `)" fill="none" stroke-width="`, num(sw), `">`)
		offset := 0.0
		for i, v := range vals {
			if v <= 0 {
				continue
			}
			c := i % paletteLen
			l := circ * v / total
			r.w(`<circle class="chart-slice chart-c`, strconv.Itoa(c), `" cx="`, num(cx), `" cy="`, num(cy), `" r="`, num(rm),
				`" stroke="`, fallback[c], `" stroke-dasharray="`, num(l), ` `, num(circ-l), `" stroke-dashoffset="`, num(-offset), `">`,
				`<title>`, esc(r.label(i)+": "+r.fmtValue(v)+" ("+r.percent(v/total)+")"), `</title></circle>`)
			offset += l
		}
		r.w(`</g>`)
	}
	r.w(`<text class="chart-text chart-total" x="`, num(cx), `" y="`, num(cy+2), `" text-anchor="middle" font-size="20" font-weight="700" fill="#1c2330">`, esc(r.fmtValue(total)), `</text>`)
	r.w(`<text class="chart-text" x="`, num(cx), `" y="`, num(cy+18), `" text-anchor="middle" font-size="`, num(fontSize), `" fill="#5b6474">`, esc(r.l.t(msgTotal)), `</text>`)
	// Legend on the right.
	r.w(`<g class="chart-legend chart-text" font-size="`, num(fontSize), `" fill="#1c2330">`)
	shown := len(vals)
	if shown > maxLegend {
		shown = maxLegend - 1
	}
	rowH := 22.0
	y0 := cy - rowH*float64(min(len(vals), maxLegend))/2 + 4
	for i := 0; i < shown; i++ {
		c := i % paletteLen
		yy := y0 + rowH*float64(i)
		share := "0%"
		if total > 0 {
			share = r.percent(vals[i] / total)
		}
		r.w(`<rect class="chart-swatch chart-c`, strconv.Itoa(c), `" x="200" y="`, num(yy), `" width="12" height="12" rx="2" fill="`, fallback[c], `" />`)
		r.w(`<text x="218" y="`, num(yy+10), `">`, esc(shorten(r.label(i))+" "+share), `</text>`)
	}
	if shown < len(vals) {
		r.w(`<text x="218" y="`, num(y0+rowH*float64(shown)+10), `" fill="#5b6474">`, esc(r.l.tf(msgMore, len(vals)-shown)), `</text>`)
	}
	r.w(`</g>`)
}

func (r *renderer) progressFraction() float64 {
	if !finite(r.c.Value) || !finite(r.c.Max) || r.c.Max <= 0 {
		return 0
	}
	return math.Max(0, math.Min(1, r.c.Value/r.c.Max))
}

func (r *renderer) progress() {
	f := r.progressFraction()
	r.w(`<rect class="chart-track" x="0" y="4" width="`, num(width), `" height="14" rx="7" fill="#e6eaf0" />`)
	if f > 0 {
		r.w(`<rect class="chart-bar chart-c0" x="0" y="4" width="`, num(math.Max(width*f, 14)), `" height="14" rx="7" fill="`, fallback[0], `" />`)
	}
	r.w(`<g class="chart-text" font-size="`, num(fontSize), `" fill="#5b6474">`)
	r.w(`<text x="0" y="36">`, esc(r.fmtValue(r.c.Value)+" / "+r.fmtValue(r.c.Max)), `</text>`)
	r.w(`<text x="`, num(width), `" y="36" text-anchor="end" font-weight="700" fill="#1c2330">`, esc(r.percent(f)), `</text>`)
	r.w(`</g>`)
}

// table writes the data table: the same numbers as the chart, for screen
// readers, for people who prefer numbers, and for browsers without SVG.
func (r *renderer) table() {
	r.w(`<table class="chart-table" id="`, r.id, `-table"><caption>`, esc(r.title()), `</caption>`)
	labelHead := r.l.t(msgCategory)
	if r.c.LabelHeader != "" {
		labelHead = r.l.t(r.c.LabelHeader)
	}
	switch r.c.Kind {
	case Progress:
		r.w(`<thead><tr><th scope="col">`, esc(r.l.t(msgValue)), `</th><th scope="col">`, esc(r.l.t(msgTarget)),
			`</th><th scope="col">`, esc(r.l.t(msgProgress)), `</th></tr></thead>`)
		r.w(`<tbody><tr><td>`, esc(r.fmtValue(r.c.Value)), `</td><td>`, esc(r.fmtValue(r.c.Max)), `</td><td>`, esc(r.percent(r.progressFraction())), `</td></tr></tbody>`)
	case Donut:
		vals, total := r.donutValues()
		var s Series
		if ss := r.series(); len(ss) > 0 {
			s = ss[0]
		}
		r.w(`<thead><tr><th scope="col">`, esc(labelHead), `</th><th scope="col">`, esc(r.seriesName(0)), `</th><th scope="col">`, esc(r.l.t(msgShare)), `</th></tr></thead><tbody>`)
		if len(vals) == 0 {
			r.w(`<tr><td colspan="3">`, esc(r.l.t(msgNoData)), `</td></tr>`)
		}
		for i := range vals {
			share := "—"
			if total > 0 {
				share = r.percent(vals[i] / total)
			}
			r.w(`<tr><th scope="row">`, esc(r.label(i)), `</th><td>`, esc(r.fmtValue(value(s, i))), `</td><td>`, esc(share), `</td></tr>`)
		}
		r.w(`</tbody><tfoot><tr><th scope="row">`, esc(r.l.t(msgTotal)), `</th><td>`, esc(r.fmtValue(total)), `</td><td>`)
		if total > 0 {
			r.w(`100%`)
		} else {
			r.w(`—`)
		}
		r.w(`</td></tr></tfoot>`)
	default:
		series := r.series()
		r.w(`<thead><tr><th scope="col">`, esc(labelHead), `</th>`)
		for si := range series {
			r.w(`<th scope="col">`, esc(r.seriesName(si)), `</th>`)
		}
		if len(series) == 0 {
			r.w(`<th scope="col">`, esc(r.l.t(msgValue)), `</th>`)
		}
		r.w(`</tr></thead><tbody>`)
		n := r.points()
		if n == 0 {
			r.w(`<tr><td colspan="`, strconv.Itoa(max(len(series), 1)+1), `">`, esc(r.l.t(msgNoData)), `</td></tr>`)
		}
		for i := 0; i < n; i++ {
			r.w(`<tr><th scope="row">`, esc(r.label(i)), `</th>`)
			for _, s := range series {
				r.w(`<td>`, esc(r.fmtValue(value(s, i))), `</td>`)
			}
			if len(series) == 0 {
				r.w(`<td>—</td>`)
			}
			r.w(`</tr>`)
		}
		r.w(`</tbody>`)
	}
	r.w(`</table>`)
}

// niceScale widens [lo, hi] to round tick values about maxTicks apart.
func niceScale(lo, hi float64, maxTicks int) (float64, float64, float64) {
	span := niceNum(hi-lo, false)
	step := niceNum(span/float64(maxTicks-1), true)
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

// niceNum returns a "nice" number (1, 2, 5 × 10^n) near x.
func niceNum(x float64, round bool) float64 {
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5:
		nf = 1
	case round && f < 3:
		nf = 2
	case round && f < 7:
		nf = 5
	case round:
		nf = 10
	case f <= 1:
		nf = 1
	case f <= 2:
		nf = 2
	case f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
}

// decimalsFor is how many decimals tick labels of step need.
func decimalsFor(step float64) int {
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step) - 1e-9))
}

func roundTo(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// num formats a coordinate compactly (at most two decimals).
func num(v float64) string {
	if !finite(v) {
		return "0"
	}
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

func runeLen(s string) int { return len([]rune(s)) }

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}

// esc escapes text for both HTML and XML.
func esc(s string) string { return template.HTMLEscapeString(s) }

func sanitizeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	out := b.String()
	if c := out[0]; c >= '0' && c <= '9' || c == '-' {
		out = "c" + out
	}
	return out
}
