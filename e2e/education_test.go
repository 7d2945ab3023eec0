package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStudentTakesAQuizFollowsASuggestionAndBooksATA is the education
// journey: the demo student continues a lesson, takes an end-of-module
// quiz, sees that Recursion is weak and why, follows the suggestion, and
// books the TA's office hours; the TA sees the booking with the weak
// topic.
func TestStudentTakesAQuizFollowsASuggestionAndBooksATA(t *testing.T) {
	env := Start(t)
	st := env.Tab(t, "student")
	st.SignIn("demo", "customer@demo.example")
	st.Expect("My courses", "Introduction to Programming")
	st.Go("/m/education/")
	st.Expect("CS101", "Continue where you left off: Lists")
	st.Click("main a[href^='/m/education/lessons/']")
	st.Expect("Lists", "Mark as done")
	st.Click("main form[action$='/complete'] button")
	st.Expect("Lesson marked as done.", "Thinking recursively", "What you know, by topic", "Recursion", "Needs work")
	st.Shot("course")
	course := st.Location()

	// The first module's quiz: answer the first question, submit.
	st.Click("main section.module form[action$='/quiz'] button")
	st.Expect("Question 1", "Submit my answers", "Save and continue later")
	st.Shot("quiz")
	st.Click("main form.quiz button[value=submit]")
	st.Expect("Your score", "Question 10")
	st.Shot("graded")

	// The weak topic with its reason, and the suggested lesson.
	st.Go(course)
	st.Expect("Suggested for you", "on Recursion.", "Read again: Recursion")
	st.Click("#suggestions a[href*='?topic=']")
	st.Expect("base case")
	st.Shot("suggestion")

	// Book the TA.
	st.Go(course)
	st.Do(chromedp.Click("#office-hours details summary"))
	st.Fill(map[string]string{"#office-hours textarea[name=note]": "Recursion: I miss the base case."})
	st.Click("#office-hours form[action$='/book'] button")
	st.Expect("Your place is booked.", "Booked", "Cancel my booking")
	st.Shot("booked")

	ta := env.Tab(t, "ta")
	ta.SignIn("demo", "staff@demo.example")
	ta.Go(course)
	ta.Expect("Office hours", "1 of 2 booked", "The class, by topic", "Students at risk")
	ta.Click("#office-hours a[href^='/m/education/slots/']")
	ta.Expect("Recursion: I miss the base case.", "Weak topics", "Recursion")
	ta.Shot("ta-booking")
}
