package education_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/verticals/education"
)

// TestAskTheProfessor: a student asks about a lesson; the course's
// professor and TA see the conversation and the professor answers (a
// response time is recorded); a professor of another course — who
// teaches the same student — and another student get 404 and do not
// find it in their inbox. The course page's form opens the same
// conversation.
func TestAskTheProfessor(t *testing.T) {
	ta, m := newApp(t)
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	bob, _ := s.student(t, "bob@uni.example")
	taUser := ta.User(t, "uni", "ta@uni.example", accounts.Staff)
	tah := ta.As(t, "uni", "ta@uni.example", accounts.Staff)
	if err := ta.Store.Tx(t.Context(), func(tx *gorm.DB) error {
		return m.Service().AddStaff(t.Context(), tx, taUser.OrgID, s.course, taUser.ID, education.RoleTA)
	}); err != nil {
		t.Fatal(err)
	}
	// History: another professor who teaches Ada too.
	hist := ta.User(t, "uni", "history@uni.example", accounts.Staff)
	histh := ta.As(t, "uni", "history@uni.example", accounts.Staff)
	var hc struct{ ID uint }
	do(t, ta, "POST", "/api/v1/education/courses", map[string]any{"code": "HI101", "title": "History", "term": "2026 autumn", "professors": []uint{hist.ID}}, s.admin, 201).JSON(t, &hc)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/enrolments", hc.ID),
		map[string]any{"students": []map[string]any{{"email": "ada@uni.example", "external_id": "h-ada"}}}, s.admin, 200)

	var asked struct {
		ConversationID uint   `json:"conversation_id"`
		Link           string `json:"link"`
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/lessons/%d/questions", s.lessons["recursion"]),
		map[string]any{"body": "Why does the base case come first?"}, ada, 201).JSON(t, &asked)
	conv := fmt.Sprintf("/api/v1/messages/conversations/%d", asked.ConversationID)
	var thread struct {
		Conversation struct {
			CustomerID   uint   `json:"customer_id"`
			SubjectTitle string `json:"subject_title"`
		} `json:"conversation"`
	}
	do(t, ta, "GET", conv, nil, s.professor, 200).JSON(t, &thread)
	if thread.Conversation.CustomerID != adaID || !strings.Contains(thread.Conversation.SubjectTitle, "About recursion") {
		t.Fatalf("the professor's view: %+v", thread)
	}
	do(t, ta, "GET", conv, nil, tah, 200)
	do(t, ta, "GET", conv, nil, histh, 404)
	do(t, ta, "POST", conv+"/messages", map[string]any{"body": "I answer"}, histh, 404)
	do(t, ta, "GET", conv, nil, bob, 404)
	do(t, ta, "POST", conv+"/messages", map[string]any{"body": "Because the recursion must stop."}, s.professor, 201)
	inbox := func(h map[string]string) string {
		return do(t, ta, "GET", "/api/v1/messages/conversations", nil, h, 200).Body
	}
	if !strings.Contains(inbox(s.professor), "About recursion") || !strings.Contains(inbox(tah), "About recursion") {
		t.Fatal("the course's staff do not find the question in their inbox")
	}
	if strings.Contains(inbox(histh), "About recursion") || strings.Contains(inbox(bob), "About recursion") {
		t.Fatal("someone outside the course finds the question in their inbox")
	}
	if !strings.Contains(do(t, ta, "GET", conv, nil, ada, 200).Body, "Because the recursion must stop.") {
		t.Fatal("Ada does not see the answer")
	}
	var answered int64
	ta.Store.DB.Table("messages_response_times").Where("conversation_id = ?", asked.ConversationID).Count(&answered)
	if answered != 1 {
		t.Fatalf("%d response times recorded, want 1", answered)
	}
	// Asking again about the same lesson continues the conversation; a
	// student of another course cannot ask about this one.
	var again struct {
		ConversationID uint `json:"conversation_id"`
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/lessons/%d/questions", s.lessons["recursion"]), map[string]any{"body": "Thanks!"}, ada, 201).JSON(t, &again)
	if again.ConversationID != asked.ConversationID {
		t.Fatalf("a second question opened conversation %d, not %d", again.ConversationID, asked.ConversationID)
	}
	carl := ta.As(t, "uni", "carl@uni.example", accounts.Customer)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/questions", s.course), map[string]any{"body": "Hello"}, carl, 404)

	// The course page: "Ask the professor".
	b := ta.Browser()
	b.SignIn(t, "uni", "ada@uni.example")
	page := b.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course))
	if page.Status != 200 || !strings.Contains(page.Body, "Ask the professor") {
		t.Fatalf("course page: %d", page.Status)
	}
	res := b.Post(t, fmt.Sprintf("/m/education/courses/%d/ask", s.course), url.Values{"body": {"When is the exam?"}})
	if res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/messages/") {
		t.Fatalf("asking on the page: %d %v", res.Status, res.Header)
	}
	do(t, ta, "GET", "/api/v1/messages/conversations/"+strings.TrimPrefix(res.Header.Get("Location"), "/messages/"), nil, histh, 404)
}
