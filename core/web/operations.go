package web

import (
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/names"
)

// operationLog remembers each API operation's route and ID as it is
// declared. huma documents the last operation of a method and path while
// Fiber serves the first, so a second declaration would silently answer
// with the wrong handler: the log refuses it, naming both operations.
type operationLog struct {
	mu     sync.Mutex
	routes map[string]string // "GET /api/v1/x/{}" → operation ID
	ids    map[string]string // operation ID → "GET /api/v1/x/{id}"
	errs   []error
}

var paramName = regexp.MustCompile(`\{[^}]*\}`)

func (l *operationLog) add(_ *huma.OpenAPI, op *huma.Operation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.routes == nil {
		l.routes, l.ids = map[string]string{}, map[string]string{}
	}
	route := op.Method + " " + op.Path
	// /x/{id} and /x/{key} are one route to the router.
	key := op.Method + " " + paramName.ReplaceAllString(op.Path, "{}")
	if first, dup := l.routes[key]; dup {
		l.errs = append(l.errs, fmt.Errorf("API route %s is declared twice: by operation %q and by operation %q", route, first, op.OperationID))
	} else {
		l.routes[key] = op.OperationID
	}
	if err := names.Operation(op.OperationID, ""); err != nil {
		l.errs = append(l.errs, fmt.Errorf("API route %s: %w", route, err))
	} else if other, dup := l.ids[op.OperationID]; dup {
		l.errs = append(l.errs, fmt.Errorf("operation ID %q is used twice: by %s and by %s", op.OperationID, other, route))
	} else {
		l.ids[op.OperationID] = route
	}
}

// OperationErr reports the API operations declared twice or misnamed since
// the server was built (the kernel calls it after wiring every module).
func (s *Server) OperationErr() error {
	s.operations.mu.Lock()
	defer s.operations.mu.Unlock()
	return errors.Join(s.operations.errs...)
}
