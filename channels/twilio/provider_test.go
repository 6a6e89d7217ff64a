package twilio

import (
	"testing"

	"github.com/hikyaku/hikyaku/config"
)

// TestProvidersShareOneAccount: the sms and voice providers build one
// account per configuration, and a new configuration builds anew.
func TestProvidersShareOneAccount(t *testing.T) {
	cfg := &config.Config{Providers: config.Providers{Twilio: &config.Twilio{AccountSID: "AC1", AuthToken: config.NewSecret("tok"), From: "+15550009999"}}}
	sms, err := SMSProvider{}.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	voice, err := VoiceProvider{}.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sms.(*SMS).acct != voice.(*Voice).acct {
		t.Error("sms and voice have two accounts for one configuration")
	}
	next := &config.Config{Providers: cfg.Providers}
	again, _ := SMSProvider{}.NewSender(next)
	if again.(*SMS).acct == sms.(*SMS).acct {
		t.Error("a reloaded configuration reused the old account")
	}
	if s, err := (SMSProvider{}).NewSender(&config.Config{}); s != nil || err != nil {
		t.Errorf("without providers.twilio: %v, %v", s, err)
	}
	unset := &config.Config{Providers: config.Providers{Twilio: &config.Twilio{AccountSID: "AC1"}}}
	if s, err := (VoiceProvider{}).NewSender(unset); s != nil || err != nil {
		t.Errorf("with the auth token unset: %v, %v", s, err)
	}
}
