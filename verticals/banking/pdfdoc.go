package banking

import (
	"bytes"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"

	"codeberg.org/go-pdf/fpdf"
)

// pdfDoc writes a one-page A4 PDF (ISO 32000-1) that uses only the
// standard Helvetica font in WinAnsiEncoding, black text and filled
// rectangles — all the monthly report needs. The layout is in millimetres
// from the top-left corner, like fpdf's. fpdf itself drew the report
// before: it parses a font's metrics from JSON and formats every operator
// with fmt for each document, 0.38 ms a report and 40 % of the monthly
// job's CPU; writing these few objects directly takes a small fraction of
// that. fpdf still provides the font metrics (widthTable), so long names
// are cut to their column and text wraps where it would.
type pdfDoc struct {
	content []byte
	size    float64 // current font size, points
	y       float64 // cursor, mm from the top
}

const (
	pdfPageW  = 210.0 // A4, mm
	pdfPageH  = 297.0
	pdfMargin = 10.0
	pdfPad    = 1.0 // text inset in a cell (fpdf's cMargin)
	ptPerMM   = 72 / 25.4
)

// widthTable is Helvetica's advance width of each WinAnsi byte in
// thousandths of an em, read once from fpdf's copy of the standard metrics.
var widthTable = sync.OnceValue(func() [256]float64 {
	var w [256]float64
	f := fpdf.New("P", "pt", "A4", "")
	f.SetFont("Helvetica", "", 1000)
	for c := 0; c < 256; c++ {
		w[c] = f.GetStringWidth(string([]byte{byte(c)}))
	}
	return w
})

// width is s's width in mm at size points (s in cp1252).
func width(s string, size float64) float64 {
	w := widthTable()
	var t float64
	for i := 0; i < len(s); i++ {
		t += w[s[i]]
	}
	return t / 1000 * size / ptPerMM
}

// fit cuts s (cp1252) to fit room mm at size points, ending it with "…".
func fit(s string, size, room float64) string {
	if width(s, size) <= room {
		return s
	}
	const ellipsis = "\x85"
	limit := room - width(ellipsis, size)
	w := widthTable()
	var t float64
	for i := 0; i < len(s); i++ {
		t += w[s[i]] / 1000 * size / ptPerMM
		if t > limit {
			return s[:i] + ellipsis
		}
	}
	return s
}

// wrap breaks s (cp1252) into lines of at most room mm at size points,
// at spaces where it can.
func wrap(s string, size, room float64) []string {
	var lines []string
	for s != "" {
		if width(s, size) <= room {
			return append(lines, s)
		}
		cut := len(fit(s, size, room)) - 1 // bytes that fit before the ellipsis
		brk := bytes.LastIndexByte([]byte(s[:max(cut, 1)]), ' ')
		if brk <= 0 {
			brk = max(cut, 1)
		}
		lines = append(lines, s[:brk])
		s = s[brk:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
	}
	return lines
}

func (d *pdfDoc) num(v float64) {
	d.content = strconv.AppendFloat(d.content, v, 'f', 2, 64)
	d.content = append(d.content, ' ')
}

// text writes s (cp1252) in a cell at (x, d.y) of height h mm, left
// aligned and vertically centred as fpdf's Cell places it.
func (d *pdfDoc) text(x, h float64, s string) {
	if s == "" {
		return
	}
	baseline := d.y + h/2 + 0.3*d.size/ptPerMM
	d.content = append(d.content, "BT /F1 "...)
	d.num(d.size)
	d.content = append(d.content, "Tf "...)
	d.num((x + pdfPad) * ptPerMM)
	d.num((pdfPageH - baseline) * ptPerMM)
	d.content = append(d.content, "Td ("...)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '\\':
			d.content = append(d.content, '\\', c)
		case '\r', '\n':
			d.content = append(d.content, ' ')
		default:
			d.content = append(d.content, c)
		}
	}
	d.content = append(d.content, ") Tj ET\n"...)
}

// rect fills a rectangle (mm, top-left origin) in an RGB colour (0–255),
// inside q … Q so the text after it stays black.
func (d *pdfDoc) rect(x, y, w, h float64, r, g, b int) {
	d.content = append(d.content, "q "...)
	for _, c := range [3]int{r, g, b} {
		d.content = strconv.AppendFloat(d.content, float64(c)/255, 'f', 3, 64)
		d.content = append(d.content, ' ')
	}
	d.content = append(d.content, "rg "...)
	d.num(x * ptPerMM)
	d.num((pdfPageH - y - h) * ptPerMM)
	d.num(w * ptPerMM)
	d.num(h * ptPerMM)
	d.content = append(d.content, "re f Q\n"...)
}

// ln moves the cursor down h mm.
func (d *pdfDoc) ln(h float64) { d.y += h }

// bytes is the finished file: catalog, page tree, page, font, content
// stream, document information, cross-reference table and trailer.
func (d *pdfDoc) bytes(title string, created time.Time) []byte {
	var b bytes.Buffer
	b.Grow(len(d.content) + 1024)
	offsets := make([]int, 0, 6)
	obj := func(body ...string) {
		offsets = append(offsets, b.Len())
		b.WriteString(strconv.Itoa(len(offsets)))
		b.WriteString(" 0 obj\n")
		for _, s := range body {
			b.WriteString(s)
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj("<< /Length ", strconv.Itoa(len(d.content)), " >>\nstream\n", string(d.content), "\nendstream")
	date := created.UTC().Format("D:20060102150405Z")
	obj("<< /Title ", utf16Hex(title), " /Producer (PortalKit) /CreationDate (", date, ") /ModDate (", date, ") >>")
	xref := b.Len()
	b.WriteString("xref\n0 ")
	b.WriteString(strconv.Itoa(len(offsets) + 1))
	b.WriteString("\n0000000000 65535 f \n")
	for _, o := range offsets {
		s := strconv.Itoa(o)
		b.WriteString("0000000000"[len(s):])
		b.WriteString(s)
		b.WriteString(" 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size ")
	b.WriteString(strconv.Itoa(len(offsets) + 1))
	b.WriteString(" /Root 1 0 R /Info 6 0 R >>\nstartxref\n")
	b.WriteString(strconv.Itoa(xref))
	b.WriteString("\n%%EOF\n")
	return b.Bytes()
}

// utf16Hex is s as a PDF text string in UTF-16BE with a byte-order mark.
func utf16Hex(s string) string {
	const hex = "0123456789ABCDEF"
	out := []byte("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, hex[u>>12], hex[u>>8&15], hex[u>>4&15], hex[u&15])
	}
	return string(append(out, '>'))
}
