package pgstore

import (
	"testing"

	"github.com/cloudflix/cloudflix/internal/store/storetest"
)

func FuzzSearch(f *testing.F) { storetest.FuzzSearch(f, open(f, Options{})) }
