// Package bench holds PortalKit's benchmarks. Results and the commands that
// produced them are in docs/PERFORMANCE.md.
package bench

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// baseWords are common help-centre words; generated articles draw from
// them and 4,800 synthetic words with a Zipf distribution, like real text.
var baseWords = strings.Fields(`account password session device sign reset email link invoice payment card bank transfer
vehicle service booking tyres brakes oil engine warranty recall insurance appointment clinic doctor prescription course
exam grade timetable enrolment fee refund address phone notification message advisor document upload download report
statement balance savings loan mortgage battery charging mileage inspection schedule reminder privacy data export delete
profile language settings security token access portal help question answer form draft feedback survey rating support`)

func vocabulary() []string {
	v := append([]string(nil), baseWords...)
	for i := len(v); i < 5000; i++ {
		v = append(v, fmt.Sprintf("term%04d", i))
	}
	return v
}

// searchQuery is a frequent word and a rarer one.
func searchQuery() string { v := vocabulary(); return v[20] + " " + v[300] }

const articles = 2000

func seedArticles(b *testing.B, ta *portaltest.TestApp, orgID uint) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	vocab := vocabulary()
	zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(vocab)-1))
	words := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(w, " ")
	}
	bar := progressbar.Default(articles, "seeding help articles")
	now := time.Now().UTC()
	err := ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		batch := make([]help.Article, 0, 200)
		for i := 0; i < articles; i++ {
			title := words(5)
			body := words(150)
			batch = append(batch, help.Article{Slug: fmt.Sprintf("article-%d", i), Locale: []string{"en", "it"}[i%2], Title: title,
				Category: words(1), Body: body, HTML: "<p>" + body + "</p>", Plain: body, Excerpt: body[:80], Published: true,
				PublishedAt: &now, Source: "staff"})
			if len(batch) == cap(batch) {
				if err := store.Org(tx, orgID).CreateInBatches(batch, 100).Error; err != nil {
					return err
				}
				_ = bar.Add(len(batch))
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHelpSearch measures a two-word search (a frequent and a rarer
// word) over 2,000 articles of one organisation against the baseline of reading one article by slug through
// the same service (an indexed lookup).
func BenchmarkHelpSearch(b *testing.B) {
	ta := portaltest.New(b, nil)
	ta.User(b, "bench", "reader@bench.example", accounts.Customer)
	p := ta.Principal(b, ta.Login(b, "bench", "reader@bench.example"))
	seedArticles(b, ta, p.OrgID)
	ctx := context.Background()
	r, err := ta.Help.ReaderFor(ctx, p, "", "en")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-read-by-slug", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := ta.Help.Read(ctx, r, fmt.Sprintf("article-%d", (i*2)%articles)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("search", func(b *testing.B) {
		hits := 0
		for i := 0; i < b.N; i++ {
			res, err := ta.Help.Search(ctx, r, searchQuery(), 20)
			if err != nil {
				b.Fatal(err)
			}
			hits = len(res)
		}
		b.ReportMetric(float64(hits), "results")
	})
}

// BenchmarkMessagesInbox measures a staff member's inbox page (50 of 500
// conversations, unanswered first, with unread counts) against the
// baseline of listing 50 conversations without them.
func BenchmarkMessagesInbox(b *testing.B) {
	ta := portaltest.New(b, nil)
	ctx := context.Background()
	ta.User(b, "bench", "admin@bench.example", accounts.Admin)
	staff := ta.User(b, "bench", "staff@bench.example", accounts.Staff)
	admin := ta.Principal(b, ta.Login(b, "bench", "admin@bench.example"))
	const customers, perCustomer = 100, 5
	bar := progressbar.Default(customers*perCustomer, "seeding conversations")
	for c := 0; c < customers; c++ {
		email := fmt.Sprintf("c%d@bench.example", c)
		u := ta.User(b, "bench", email, accounts.Customer)
		if err := ta.Accounts.Assign(ctx, admin, staff.ID, u.ID, "advisor"); err != nil {
			b.Fatal(err)
		}
		cp := ta.Principal(b, ta.Login(b, "bench", email))
		for k := 0; k < perCustomer; k++ {
			conv, err := ta.Messages.Start(ctx, cp, messages.NewConversation{Subject: fmt.Sprintf("Question %d", k), Body: "Hello, a question."})
			if err != nil {
				b.Fatal(err)
			}
			if k%2 == 0 {
				if _, err := ta.Messages.Send(ctx, admin, conv.ID, "An answer.", nil); err != nil {
					b.Fatal(err)
				}
			}
			_ = bar.Add(1)
		}
	}
	sp := ta.Principal(b, ta.Login(b, "bench", "staff@bench.example"))
	b.Run("baseline-list", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var list []messages.Conversation
			if err := store.Org(ta.Store.DB.WithContext(ctx), sp.OrgID).Order("last_message_at DESC").Limit(50).Find(&list).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inbox", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			items, total, err := ta.Messages.Inbox(ctx, sp, messages.InboxFilter{Size: 50})
			if err != nil || len(items) != 50 || total != customers*perCustomer {
				b.Fatalf("inbox: %d of %d, %v", len(items), total, err)
			}
		}
	})
}
