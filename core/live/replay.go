package live

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/portalkit/portalkit/core/store"
)

// where asks where a person's stream stands: their position and, when
// replay is set, their first events after after (at most MaxReplay+1).
// Streams that start or catch up together (a reconnect storm after a
// restart) are answered by one query for hundreds of them (Service.where).
type where struct {
	org, user uint
	after     uint64
	replay    bool
}

// standing is the answer: the position, and the events after where.after
// in position order. Both come from one statement, so one snapshot: every
// event up to cur that is not among them has expired.
type standing struct {
	cur    uint64
	events []entry
}

func (s *Service) newStandings() *store.Loader[where, standing] {
	return &store.Loader[where, standing]{Fetch: s.fetchStandings, Max: 500, Parallel: 4}
}

// fetchStandings reads the positions and replays of many streams in one
// statement.
func (s *Service) fetchStandings(ctx context.Context, ws []where) (map[where]standing, error) {
	var sb strings.Builder
	args := make([]any, 0, 5*len(ws)+1)
	sb.WriteString(`WITH r (i, org_id, user_id, after, want) AS (VALUES `)
	for i, w := range ws {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS BIGINT))")
		want := 0
		if w.replay {
			want = 1
		}
		args = append(args, i, w.org, w.user, min(w.after, math.MaxInt64), want)
	}
	sb.WriteString(`)
SELECT r.i, COALESCE(c.seq, 0) AS cur, e.seq, e.type, e.data FROM r
LEFT JOIN live_cursors c ON c.org_id = r.org_id AND c.user_id = r.user_id
LEFT JOIN (SELECT r.i, e.seq, e.type, e.data, ROW_NUMBER() OVER (PARTITION BY r.i ORDER BY e.seq) AS n
	FROM r JOIN live_events e ON e.org_id = r.org_id AND e.user_id = r.user_id AND e.seq > r.after
	WHERE r.want = 1) e ON e.i = r.i AND e.n <= ?
ORDER BY r.i, e.seq`)
	args = append(args, s.cfg.MaxReplay+1)
	rows, err := s.st.DB.WithContext(ctx).Raw(sb.String(), args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("live: positions and replay: %w", err)
	}
	defer rows.Close()
	out := make(map[where]standing, len(ws))
	for rows.Next() {
		var i int
		var cur uint64
		var seq *uint64
		var typ, data *string
		if err := rows.Scan(&i, &cur, &seq, &typ, &data); err != nil {
			return nil, err
		}
		if i < 0 || i >= len(ws) {
			return nil, fmt.Errorf("live: replay row for request %d of %d", i, len(ws))
		}
		v := out[ws[i]]
		v.cur = cur
		if seq != nil {
			v.events = append(v.events, entry{Seq: *seq, Type: *typ, Data: *data})
		}
		out[ws[i]] = v
	}
	return out, rows.Err()
}

// standing returns where the stream's person stands, with the events after
// after when replay is set.
func (st *stream) standing(ctx context.Context, after uint64, replay bool) (standing, error) {
	v, _, err := st.s.standings.Load(ctx, where{org: st.org, user: st.user, after: after, replay: replay})
	return v, err
}
