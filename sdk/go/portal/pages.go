package portal

import (
	"context"
	"iter"
)

// Pages walks a paginated list: fetch gets the page after cursor ("" for
// the first) and returns its items and the next cursor ("" after the
// last). Stop ranging to stop fetching; an error is yielded once, last.
//
//	for item, err := range portal.Pages(ctx, func(ctx context.Context, cursor string) ([]api.Item, string, error) {
//		res, err := portal.Result(c.API.MeActivityWithResponse(ctx, &api.MeActivityParams{Cursor: &cursor}))
//		...
//	}) { ... }
func Pages[T any](ctx context.Context, fetch func(ctx context.Context, cursor string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			items, next, err := fetch(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == cursor || len(items) == 0 {
				return
			}
			cursor = next
		}
	}
}
