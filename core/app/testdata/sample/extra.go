package sample

import (
	"errors"

	"gorm.io/gorm"
)

type (
	gormDB      = gorm.DB
	gormSession = gorm.Session
)

var errTest = errors.New("database exploded: password=hunter2")
