package education

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
)

// qtiSample is a QTI 2.1 choice item as the matrix and the OpenAPI
// example send it.
const qtiSample = `<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="loops.q1" title="Counting loops" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>B</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>How many times does for i in range(3) run?</prompt>
      <simpleChoice identifier="A">2</simpleChoice>
      <simpleChoice identifier="B">3</simpleChoice>
      <simpleChoice identifier="C">4</simpleChoice>
    </choiceInteraction>
  </itemBody>
</assessmentItem>`

type qtiIn struct {
	ID      uint     `path:"id"`
	Topics  []string `query:"topic" doc:"Topic keys of the course for the item (repeat or separate with commas); without it, the identifier's part before its first '.' (loops.q1 → loops)"`
	RawBody []byte   `contentType:"application/xml" doc:"One QTI 2.1 assessmentItem with one choiceInteraction"`
}

type educationQTIOut struct {
	Body struct {
		Item    *BankItem `json:"item"`
		Created bool      `json:"created" doc:"False when the bank already had an item with this identifier (nothing changed)"`
	}
}

type educationResultsOut struct {
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
		func(ctx context.Context, in *idIn) (*educationResultsOut, error) {
			p := principal(ctx)
			c, err := s.teaching(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			rs, err := s.Results(ctx, p.OrgID, c)
			if err != nil {
				return nil, err
			}
			out := &educationResultsOut{}
			out.Body.Course, out.Body.Students = *c, append([]StudentResults{}, rs...)
			return out, nil
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-items-qti", Method: http.MethodPost, Path: "/courses/{id}/items/qti", DefaultStatus: 201,
		Summary: "Import a QTI 2.1 choice item into the course's bank (its staff, admins, integrators)",
		Description: "One assessmentItem with one choiceInteraction: cardinality single becomes a single-choice item, multiple a multiple-choice item " +
			"(the correctResponse values mark the right simpleChoices). The identifier is the item's external_id: sending it again adds nothing. " +
			"Any other interaction is refused with 422 naming it; so is XML that is not well formed."},
		func(ctx context.Context, in *qtiIn) (*educationQTIOut, error) {
			q, err := parseQTI(in.RawBody)
			if err != nil {
				return nil, err
			}
			item, err := qtiToItem(q)
			if err != nil {
				return nil, err
			}
			out := &educationQTIOut{}
			err = s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) error {
				var n int64
				if err := store.Org(tx, c.OrgID).Model(&BankItem{}).Where("course_id = ? AND external_id = ?", c.ID, q.Identifier).Count(&n).Error; err != nil {
					return err
				}
				b, err := s.AddItem(ctx, tx, c.OrgID, c.ID, NewItem{ExternalID: q.Identifier, Topics: qtiTopics(in.Topics, q.Identifier), Item: item})
				out.Body.Item, out.Body.Created = b, n == 0
				return err
			})
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			f, err := s.fixtureCourse(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return idParam(f.course.ID), fmt.Sprint(qtiSample), nil
		}))
}
