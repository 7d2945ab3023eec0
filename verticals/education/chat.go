package education

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Ask opens (or continues) the student p's secure conversation with the
// professors and TAs of a course, about the course (about = "course") or
// one of its lessons ("lesson"). The conversation belongs to the course's
// policy group (messages.OpenInGroup): exactly that course's staff read
// and answer it — not the staff of the student's other courses — and the
// core tracks its response times as for any conversation.
func (s *Service) Ask(ctx context.Context, p *accounts.Principal, about string, id uint, text string) (*messages.Conversation, error) {
	if p == nil || p.Role != accounts.Customer {
		return nil, errs.Forbiddenf("only students ask their professors")
	}
	if strings.TrimSpace(text) == "" {
		return nil, errs.InvalidField("body", "write your question")
	}
	var courseID uint
	var title string
	switch about {
	case "course":
		courseID = id
	case "lesson":
		l, _, err := s.lesson(ctx, p, id)
		if err != nil {
			return nil, err
		}
		courseID, title = l.CourseID, l.Title
	default:
		return nil, errs.InvalidField("about", `is "course" or "lesson"`)
	}
	c, _, err := s.courseAccess(ctx, p, courseID)
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = c.Code + " " + c.Title
	} else {
		title = c.Code + ": " + title
	}
	var conv *messages.Conversation
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		g, err := s.courseGroup(ctx, tx, c)
		if err != nil {
			return err
		}
		// An enrolment always stands in the course's group; written here
		// too so an enrolment made before groups existed still reaches it.
		if err := s.acc.AddGroupMember(ctx, tx, c.OrgID, g.ID, p.UserID, accounts.CustomerSide, "student"); err != nil {
			return err
		}
		conv, err = s.msgs.OpenInGroup(ctx, tx, p, g.ID, ID, about, strconv.FormatUint(uint64(id), 10), title, text)
		return err
	})
	return conv, err
}

type askIn struct {
	ID   uint `path:"id"`
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"5000" doc:"Your question"`
	}
}

type askOut struct {
	Body struct {
		ConversationID uint   `json:"conversation_id"`
		Link           string `json:"link" doc:"The conversation's page"`
	}
}

func (s *Service) registerChatAPI(api huma.API) {
	for _, about := range []string{"course", "lesson"} {
		fixture := s.courseFixture(nil)
		if about == "lesson" {
			fixture = s.lessonFixture
		}
		accounts.Register(api, huma.Operation{OperationID: "education-ask-" + about, Method: http.MethodPost, Path: "/" + about + "s/{id}/questions", DefaultStatus: 201,
			Summary: fmt.Sprintf("Ask the professors about this %s (students)", about),
			Description: "Opens, or continues, a secure conversation (core messages) with the course's professors and TAs; " +
				"only they and the organisation's admins see it. 409 when the course has no staff yet."},
			func(ctx context.Context, in *askIn) (*askOut, error) {
				conv, err := s.Ask(ctx, principal(ctx), about, in.ID, in.Body.Body)
				if err != nil {
					return nil, err
				}
				out := &askOut{}
				out.Body.ConversationID, out.Body.Link = conv.ID, fmt.Sprintf("/messages/%d", conv.ID)
				return out, nil
			}, accounts.Allow(students...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
				params, _, err := fixture(ctx, tx, owner)
				if err != nil {
					return nil, nil, err
				}
				if err := s.fixtureProfessor(ctx, tx, owner, params["id"], about); err != nil {
					return nil, nil, err
				}
				return params, map[string]any{"body": "What does this mean?"}, nil
			}))
	}
}

// fixtureProfessor gives the fixture's course a professor, so a student
// has someone to ask.
func (s *Service) fixtureProfessor(ctx context.Context, tx *gorm.DB, owner *accounts.Principal, id, about string) error {
	n, _ := strconv.ParseUint(id, 10, 64)
	courseID := uint(n)
	if about == "lesson" {
		var l Lesson
		if err := store.Org(tx, owner.OrgID).First(&l, n).Error; err != nil {
			return err
		}
		courseID = l.CourseID
	}
	u := accounts.User{Email: fmt.Sprintf("fixture-professor-%d@matrix.example", fixtureSeq.Add(1)), Name: "Professor", Role: accounts.Staff}
	if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
		return err
	}
	return s.AddStaff(ctx, tx, owner.OrgID, courseID, u.ID, RoleProfessor)
}

// askSubmit is "Ask the professor" on the course and lesson pages: the
// question opens the conversation, whose page the student lands on.
func (s *Service) askSubmit(about string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		conv, err := s.Ask(c.UserContext(), me(c), about, id, c.FormValue("body"))
		if err != nil {
			return err
		}
		return c.Redirect(fmt.Sprintf("/messages/%d", conv.ID), fiber.StatusSeeOther)
	}
}
