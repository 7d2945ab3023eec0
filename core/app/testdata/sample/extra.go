package sample

import (
	"errors"

	"gorm.io/gorm"
)

type gormDB = gorm.DB

var errTest = errors.New("database exploded: password=hunter2")
