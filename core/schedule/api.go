package schedule

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/errs"
)

type jobsOutput struct {
	Body struct {
		Jobs []JobInfo `json:"jobs"`
	}
}

type runsInput struct {
	Name  string `path:"name" maxLength:"100" doc:"The job's name, <module>.<name>"`
	Limit int    `query:"limit" minimum:"1" maximum:"500" default:"20" doc:"How many runs, newest first"`
}

type runsOutput struct {
	Body struct {
		Runs []RunRecord `json:"runs"`
	}
}

type runNowInput struct {
	Name string `path:"name" maxLength:"100" doc:"The job's name, <module>.<name>"`
	Body *struct {
		Slot string `json:"slot,omitempty" doc:"A slot of the job's schedule to run (RFC 3339, e.g. 2025-06-01T06:00:00Z): a missed slot, or a failed one, which resumes from its cursor. Empty: a manual slot now."`
	} `required:"false"`
}

type runOutput struct {
	Body RunRecord
}

// RegisterAPI declares the jobs API on api (the lead mounts it behind
// admin authentication, e.g. on a group at /api/v1/admin):
//
//	GET  /jobs                 every job, its schedule, next slot and last runs
//	GET  /jobs/{name}/runs     a job's latest runs
//	POST /jobs/{name}/runs     run now (202): a manual slot, or {"slot": ...}
func (s *Service) RegisterAPI(api huma.API, who Who) {
	tags := []string{"Jobs"}
	huma.Register(api, huma.Operation{
		OperationID: "schedule-list-jobs", Method: http.MethodGet, Path: "/jobs",
		Summary: "List scheduled jobs", Tags: tags,
		Description: "Every declared job with its effective schedule, next slot and last five runs.",
	}, func(ctx context.Context, _ *struct{}) (*jobsOutput, error) {
		if _, err := authorize(ctx, who); err != nil {
			return nil, err
		}
		jobs, err := s.Jobs(ctx, adminRunsPerJob)
		if err != nil {
			return nil, err
		}
		out := &jobsOutput{}
		out.Body.Jobs = jobs
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "schedule-list-runs", Method: http.MethodGet, Path: "/jobs/{name}/runs",
		Summary: "List a job's runs", Tags: tags,
	}, func(ctx context.Context, in *runsInput) (*runsOutput, error) {
		if _, err := authorize(ctx, who); err != nil {
			return nil, err
		}
		runs, err := s.Runs(ctx, in.Name, in.Limit)
		if err != nil {
			return nil, err
		}
		out := &runsOutput{}
		out.Body.Runs = runs
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "schedule-run-now", Method: http.MethodPost, Path: "/jobs/{name}/runs",
		Summary: "Run a job now", Tags: tags, DefaultStatus: http.StatusAccepted,
		Errors: []int{http.StatusConflict, http.StatusServiceUnavailable},
		Description: "Starts a run in the background and returns it as claimed; follow it with the runs list. " +
			"409 when the job is off, or the slot already succeeded or is running; 422 when the slot is not one of the job's schedule.",
	}, func(ctx context.Context, in *runNowInput) (*runOutput, error) {
		caller, err := authorize(ctx, who)
		if err != nil {
			return nil, err
		}
		req := Request{UserID: caller.UserID, Trigger: TriggerAdmin}
		if in.Body != nil && in.Body.Slot != "" {
			slot, err := time.Parse(time.RFC3339, in.Body.Slot)
			if err != nil {
				return nil, errs.InvalidField("body.slot", "want an RFC 3339 time such as 2025-06-01T06:00:00Z")
			}
			req.Slot = slot
		}
		rec, err := s.Trigger(ctx, in.Name, req)
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid && len(e.Fields) == 1 {
			return nil, errs.InvalidField("body."+e.Fields[0].Field, e.Fields[0].Message)
		}
		if err != nil {
			return nil, err
		}
		return &runOutput{Body: rec}, nil
	})
}
