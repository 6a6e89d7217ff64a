package twilio

import (
	"os"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// TestMain hands config this package's own providers: the test
// configurations reach people by SMS and voice alone, and channels/all,
// which lists every provider, imports this package, so its tests cannot.
func TestMain(m *testing.M) {
	config.UseChannels(channels.NewRegistry(SMSProvider{}, VoiceProvider{}).Specs()...)
	os.Exit(m.Run())
}
