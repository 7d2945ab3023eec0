package quiz

import "slices"

// Draw picks up to n items of pool for one attempt, spread over topics: it
// takes one item of each topic in turn (round robin, in the order of
// topics) until it has n or the topics run out. Each topic's items are
// taken in an order shuffled by seed, so the same seed draws the same
// items, and different students (seeds) get different ones. With no
// topics, every item of the pool is a candidate.
func Draw(pool []Item, topics []string, n int, seed uint64) []Item {
	if n <= 0 {
		return nil
	}
	if len(topics) == 0 {
		topics = []string{""}
	}
	queues := make([][]Item, len(topics))
	for i, t := range topics {
		for _, it := range pool {
			if t == "" || slices.Contains(it.Topics, t) {
				queues[i] = append(queues[i], it)
			}
		}
		rng := seeded(seed, t)
		q := queues[i]
		rng.Shuffle(len(q), func(a, b int) { q[a], q[b] = q[b], q[a] })
	}
	picked := map[string]bool{}
	var out []Item
	for progress := true; progress && len(out) < n; {
		progress = false
		for i := range queues {
			for len(queues[i]) > 0 && len(out) < n {
				it := queues[i][0]
				queues[i] = queues[i][1:]
				if picked[it.ID] {
					continue
				}
				picked[it.ID] = true
				out = append(out, it)
				progress = true
				break
			}
		}
	}
	return out
}
