package store

import "strings"

// MultiRow returns head, then rows groups of cols placeholders
// ("(?,?,?),(?,?,?)"), then tail: one multi-row INSERT (or VALUES list)
// for rows × cols arguments, which the caller appends row by row in the
// same order. One statement for a chunk of rows costs one round trip
// where GORM's CreateInBatches walks every row by reflection. Keep
// rows × cols under the drivers' parameter limits (SQLite 32 766,
// PostgreSQL 65 535): callers write chunks of a few hundred rows.
func MultiRow(head string, rows, cols int, tail string) string {
	var sb strings.Builder
	sb.Grow(len(head) + len(tail) + rows*(2*cols+2))
	sb.WriteString(head)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('?')
		}
		sb.WriteByte(')')
	}
	sb.WriteString(tail)
	return sb.String()
}
