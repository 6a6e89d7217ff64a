package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// withTwilio is minimal plus a Twilio provider whose auth_token is token.
func withTwilio(token string) string {
	return complete(`providers:
  twilio:
    account_sid: AC0123
    from: "+815012345678"
    auth_token: ` + token + "\n")
}

func TestSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twilio-token")
	// Editors and `echo` leave a newline that is not part of the token.
	if err := os.WriteFile(path, []byte("s3cr3t-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(withTwilio("{file: "+path+"}")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := cfg.Providers.Twilio.AuthToken.Reveal(); !ok || v != "s3cr3t-from-file" {
		t.Errorf("Reveal() = %q, %v; want the file's content without its newline", v, ok)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %v, want none", cfg.Warnings)
	}
}

func TestSecretFromEnv(t *testing.T) {
	t.Setenv("HIKYAKU_TEST_TWILIO", "s3cr3t-from-env")
	cfg, err := Parse([]byte(withTwilio("{env: HIKYAKU_TEST_TWILIO}")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := cfg.Providers.Twilio.AuthToken.Reveal(); !ok || v != "s3cr3t-from-env" {
		t.Errorf("Reveal() = %q, %v; want the variable's value", v, ok)
	}
}

func TestMissingSecretIsAWarning(t *testing.T) {
	// The example config must start on a fresh machine: an unset variable
	// warns, at the secret's position, and the config still loads.
	os.Unsetenv("HIKYAKU_TEST_UNSET")
	cfg, err := Parse([]byte(withTwilio("{env: HIKYAKU_TEST_UNSET}")), "hikyaku.yml")
	if err != nil {
		t.Fatalf("Parse: %v, want the config with a warning", err)
	}
	if len(cfg.Warnings) != 1 {
		t.Fatalf("warnings = %v, want one", cfg.Warnings)
	}
	w := cfg.Warnings[0]
	if w.File != "hikyaku.yml" || w.Line != 5 || w.Column != 18 || !strings.Contains(w.Msg, "HIKYAKU_TEST_UNSET is not set") {
		t.Errorf("warning = %v, want hikyaku.yml:5:18 naming the variable", w)
	}
	if _, ok := cfg.Providers.Twilio.AuthToken.Reveal(); ok {
		t.Error("an unset secret reveals a value")
	}
}

func TestMissingSecretFileIsAWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent")
	cfg, err := Parse([]byte(withTwilio("{file: "+path+"}")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, path) {
		t.Errorf("warnings = %v, want one naming %s", cfg.Warnings, path)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "s3cr3t-never-printed"
	t.Setenv("HIKYAKU_TEST_SLACK", value)
	cfg, err := Parse([]byte(complete(`global:
  api_token: {value: `+value+`}
providers:
  twilio:
    account_sid: AC0123
    from: "+815012345678"
    auth_token: {env: HIKYAKU_TEST_SLACK}
  slack:
    bot_token: {env: HIKYAKU_TEST_SLACK}
receivers:
  - name: am
    basic_auth: {username: am, password: {value: `+value+`}}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	secret := cfg.Global.APIToken
	if v, ok := secret.Reveal(); !ok || v != value {
		t.Fatalf("Reveal() = %q, %v; the test would prove nothing", v, ok)
	}
	// Each dump must show where a secret was, so that its absence means hidden.
	marker := map[string]string{"fmt": "<secret>", "json": `\u003csecret\u003e`, "yaml": "<secret>"}
	dumps := map[string]string{
		"fmt": fmt.Sprintf("%v %+v %s %#v %d %q %x %v %+v", secret, cfg.Providers.Twilio, secret, secret, secret, secret, secret, cfg.Providers, cfg.Receivers),
	}
	if b, err := json.Marshal(cfg); err != nil {
		t.Errorf("json.Marshal: %v", err)
	} else {
		dumps["json"] = string(b)
	}
	if b, err := yaml.Marshal(cfg); err != nil {
		t.Errorf("yaml.Marshal: %v", err)
	} else {
		dumps["yaml"] = string(b)
	}
	for name, dump := range dumps {
		if strings.Contains(dump, value) {
			t.Errorf("%s dump shows the secret:\n%s", name, dump)
		}
		if !strings.Contains(dump, marker[name]) {
			t.Errorf("%s dump does not say <secret>; did it print the secret at all?\n%s", name, dump)
		}
	}
}

func TestSecretGivenTwoWays(t *testing.T) {
	_, err := Parse([]byte(withTwilio("{env: A, file: /b}")), "hikyaku.yml")
	checkErrors(t, err, []want{{5, 18, "auth_token: give only one of file, env and value"}})
}
