package education_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/verticals/education"
)

const qtiSingle = `<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="rec-base-case" title="Base case" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceB</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>A recursive function needs a way to stop.</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <prompt>What is that part called?</prompt>
      <simpleChoice identifier="ChoiceA">The <b>loop</b></simpleChoice>
      <simpleChoice identifier="ChoiceB">The base case</simpleChoice>
      <simpleChoice identifier="ChoiceC">The stack</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>`

const qtiMultiple = `<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="loops.which" title="Loops">
  <responseDeclaration identifier="R1" cardinality="multiple" baseType="identifier">
    <correctResponse><value>W</value><value>F</value></correctResponse>
  </responseDeclaration>
  <itemBody>
    <div><choiceInteraction responseIdentifier="R1" maxChoices="0">
      <prompt>Which are loops in Python?</prompt>
      <simpleChoice identifier="W">while</simpleChoice>
      <simpleChoice identifier="F">for</simpleChoice>
      <simpleChoice identifier="U">until</simpleChoice>
    </choiceInteraction></div>
  </itemBody>
</assessmentItem>`

const qtiTextEntry = `<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="loops.text" title="Text">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string">
    <correctResponse><value>for</value></correctResponse>
  </responseDeclaration>
  <itemBody><p>The keyword is <textEntryInteraction responseIdentifier="RESPONSE" expectedLength="5"/>.</p></itemBody>
</assessmentItem>`

func TestQTIImport(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	base := fmt.Sprintf("/api/v1/education/courses/%d/items/qti", s.course)
	xmlH := portaltest.WithHeaders(s.professor, "Content-Type", "application/xml")
	type out struct {
		Item    education.BankItem `json:"item"`
		Created bool               `json:"created"`
	}

	var single out
	do(t, ta, "POST", base+"?topic=recursion", qtiSingle, xmlH, 201).JSON(t, &single)
	if !single.Created || single.Item.Kind != "single" || single.Item.ExternalID == nil || *single.Item.ExternalID != "rec-base-case" {
		t.Fatalf("single: %+v", single)
	}
	var again out
	do(t, ta, "POST", base+"?topic=recursion", qtiSingle, xmlH, 201).JSON(t, &again)
	if again.Created || again.Item.ID != single.Item.ID {
		t.Fatalf("sent again: %+v (first %d)", again, single.Item.ID)
	}
	// The topic from the identifier (loops.which → loops).
	var multi out
	do(t, ta, "POST", base, qtiMultiple, xmlH, 201).JSON(t, &multi)
	if !multi.Created || multi.Item.Kind != "multiple" {
		t.Fatalf("multiple: %+v", multi)
	}

	// The imported items are drawn and graded like any other: a student's
	// attempt shows the prompts and choices as written.
	// A module whose quiz draws the whole bank (twelve items and the two imported).
	var mod education.CourseModule
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/modules", s.course), map[string]any{"title": "Everything", "quiz_items": 14}, s.professor, 201).JSON(t, &mod)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/lessons", mod.ID), map[string]any{"title": "Review", "body": "Review.", "topics": []string{"loops", "recursion"}}, s.professor, 201)
	ada, _ := s.student(t, "ada@uni.example")
	var att education.AttemptView
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/attempts", mod.ID), nil, ada, 200).JSON(t, &att)
	answers := map[string][]string{}
	seen := 0
	for _, q := range att.Questions {
		switch q.ID {
		case fmt.Sprint(single.Item.ID):
			seen++
			if q.Prompt != "A recursive function needs a way to stop.\n\nWhat is that part called?" || len(q.Options) != 3 {
				t.Errorf("single as asked: %+v", q)
			}
			answers[q.ID] = []string{"ChoiceB"}
		case fmt.Sprint(multi.Item.ID):
			seen++
			if q.Prompt != "Which are loops in Python?" || len(q.Options) != 3 {
				t.Errorf("multiple as asked: %+v", q)
			}
			answers[q.ID] = []string{"W", "F"}
		}
	}
	if seen != 2 || len(att.Questions) != 14 {
		t.Fatalf("the quiz drew %d questions, %d of them imported (want 14 and 2)", len(att.Questions), seen)
	}
	var g education.AttemptView
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/attempts/%d/submit", att.ID), map[string]any{"answers": answers}, ada, 200).JSON(t, &g)
	for _, r := range g.Results {
		if (r.ItemID == fmt.Sprint(single.Item.ID) || r.ItemID == fmt.Sprint(multi.Item.ID)) && !r.Correct {
			t.Errorf("right answer graded wrong: %+v", r)
		}
	}

	res := do(t, ta, "POST", base+"?topic=loops", qtiTextEntry, xmlH, 422)
	if !strings.Contains(res.Body, "unsupported interaction textEntryInteraction") {
		t.Errorf("unsupported interaction: %s", res.Body)
	}
	res = do(t, ta, "POST", base+"?topic=loops", `<assessmentItem identifier="x"><itemBody><choiceInteraction></itemBody></assessmentItem>`, xmlH, 422)
	if !strings.Contains(res.Body, "not well-formed XML") {
		t.Errorf("malformed: %s", res.Body)
	}
	res = do(t, ta, "POST", base+"?topic=graphs", strings.Replace(qtiSingle, "rec-base-case", "rec-2", 1), xmlH, 422)
	if !strings.Contains(res.Body, `the course has no topic \"graphs\"`) {
		t.Errorf("unknown topic: %s", res.Body)
	}
	ta.User(t, "uni", "history@uni.example", accounts.Staff)
	other := portaltest.WithHeaders(ta.As(t, "uni", "history@uni.example", accounts.Staff), "Content-Type", "application/xml")
	do(t, ta, "POST", base+"?topic=loops", strings.Replace(qtiSingle, "rec-base-case", "rec-3", 1), other, 404)
}
