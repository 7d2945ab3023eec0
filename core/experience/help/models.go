package help

import (
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// Article is one help page in one language. Articles with the same slug in
// different locales are translations of each other; readers get the one in
// their language, else another.
type Article struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	// Module is the ID of the module the article documents ("" for the
	// portal itself). Articles of a module disabled for the organisation are
	// hidden from readers.
	Module   string `gorm:"size:32;not null;default:''" json:"module"`
	Slug     string `gorm:"size:100;not null" json:"slug"`
	Locale   string `gorm:"size:5;not null" json:"locale"`
	Title    string `gorm:"size:200;not null" json:"title"`
	Category string `gorm:"size:80;not null;default:''" json:"category"`
	// Body is the Markdown source; HTML is its sanitised rendering.
	Body string `gorm:"type:text;not null" json:"body"`
	HTML string `gorm:"type:text;not null" json:"-"`
	// Plain is the text of the article without markup: what search indexes.
	Plain string `gorm:"type:text;not null" json:"-"`
	// SearchTitle and SearchBody are what search indexes: the stemmed
	// terms of the title, and of the category and text (see analyze.go).
	// Every write sets them; Create fills them when left empty.
	SearchTitle string `gorm:"type:text;not null;default:''" json:"-"`
	SearchBody  string `gorm:"type:text;not null;default:''" json:"-"`
	Excerpt     string `gorm:"size:300;not null;default:''" json:"excerpt"`
	// Contexts are the context keys of the pages that link here
	// ("automotive.vehicle"), comma-separated; help_contexts indexes them.
	Contexts    string     `gorm:"size:1000;not null;default:''" json:"-"`
	Published   bool       `gorm:"not null;default:false" json:"published"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// Source is "default" for articles a module ships (imported per
	// organisation) and "staff" for articles written in the portal.
	Source string `gorm:"size:10;not null;default:'staff'" json:"source"`
	// DefaultHash identifies the shipped version a default article was
	// imported from; Edited stops later versions from overwriting staff
	// changes.
	DefaultHash string    `gorm:"size:64;not null;default:''" json:"-"`
	Edited      bool      `gorm:"not null;default:false" json:"edited"`
	HelpfulYes  int64     `gorm:"not null;default:0" json:"helpful_yes"`
	HelpfulNo   int64     `gorm:"not null;default:0" json:"helpful_no"`
	CreatedBy   uint      `json:"-"`
	UpdatedBy   uint      `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TableName keeps the table in the help namespace.
func (Article) TableName() string { return "help_articles" }

// BeforeCreate indexes an article created without its search terms (every
// Create goes through here; updates set them explicitly).
func (a *Article) BeforeCreate(*gorm.DB) error {
	if a.SearchTitle == "" && a.SearchBody == "" {
		a.SearchTitle, a.SearchBody = indexTerms(a.Locale, a.Title, a.Category, a.Plain)
	}
	return nil
}

// ContextKeys returns the article's context keys.
func (a *Article) ContextKeys() []string { return splitList(a.Contexts) }

// ArticleContext links a context key (a page of a module) to an article.
type ArticleContext struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	ArticleID uint   `gorm:"not null;index"`
	Key       string `gorm:"column:context_key;size:100;not null"`
}

// TableName keeps the table in the help namespace.
func (ArticleContext) TableName() string { return "help_contexts" }

// Vote is one person's answer to "was this helpful?" for one article. A
// person has at most one vote per article; answering again changes it.
type Vote struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	ArticleID uint `gorm:"not null"`
	UserID    uint `gorm:"not null;index"`
	Helpful   bool `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName keeps the table in the help namespace.
func (Vote) TableName() string { return "help_votes" }

// Settings are an organisation's help-centre settings.
type Settings struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	// Public lets anyone read the published articles without signing in.
	Public    bool `gorm:"not null"`
	UpdatedAt time.Time
}

// TableName keeps the table in the help namespace.
func (Settings) TableName() string { return "help_settings" }
