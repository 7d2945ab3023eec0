package education

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
)

type resultsOut struct {
	Body struct {
		Course   Course           `json:"course"`
		Students []StudentResults `json:"students"`
	}
}

func (s *Service) registerIntegrationAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "education-results", Method: http.MethodGet, Path: "/courses/{id}/results",
		Summary: "Every student's results per module (the course's staff, admins, integrators)",
		Description: "Per student and module: the grade by the module's grading method (highest, average, first or last attempt), the best attempt, " +
			"graded attempts, lessons done and completion. The course page offers the same as CSV."},
		func(ctx context.Context, in *idIn) (*resultsOut, error) {
			p := principal(ctx)
			c, err := s.teaching(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			rs, err := s.Results(ctx, p.OrgID, c)
			if err != nil {
				return nil, err
			}
			out := &resultsOut{}
			out.Body.Course, out.Body.Students = *c, append([]StudentResults{}, rs...)
			return out, nil
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(nil)))
}
