package store

import "testing"

func TestMultiRow(t *testing.T) {
	for _, c := range []struct {
		rows, cols int
		want       string
	}{
		{1, 1, "INSERT INTO t VALUES (?) RETURNING id"},
		{2, 3, "INSERT INTO t VALUES (?,?,?),(?,?,?) RETURNING id"},
		{3, 2, "INSERT INTO t VALUES (?,?),(?,?),(?,?) RETURNING id"},
	} {
		if got := MultiRow("INSERT INTO t VALUES ", c.rows, c.cols, " RETURNING id"); got != c.want {
			t.Errorf("MultiRow(%d rows, %d cols) = %q, want %q", c.rows, c.cols, got, c.want)
		}
	}
}
