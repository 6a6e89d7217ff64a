package email

import (
	"os"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// TestMain hands config this package's own provider: the test
// configurations reach people by email alone, and channels/all, which
// lists every provider, imports this package, so its tests cannot import it.
func TestMain(m *testing.M) {
	config.UseChannels(channels.NewRegistry(Provider{}).Specs()...)
	os.Exit(m.Run())
}
