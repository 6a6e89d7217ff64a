package catalog

func init() { Add("ja", ja) }

// ja is hikyaku's Japanese.
var ja = Messages{
	// sms. and voice. (channels/twilio)

	// email. (channels/email)

	// slack. (channels/slack)

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// ntfy. (channels/ntfy)

	// access. (access/roles.go)
	"access.unknown":       "%s は設定されたユーザーではありません。何も変更していません。",
	"access.viewer":        "あなたは %s の閲覧者です。閲覧者は操作できません。何も変更していません。",
	"access.no_role":       "インシデント #%d は %s のもので、あなたはそこで役割がなく、呼び出されてもいません。何も変更していません。",
	"access.admin_only":    "%s は部署の管理者だけが行えます。何も変更していません。",
	"access.service_admin": "共有の api_token はインシデントの操作だけができます。%s には管理者自身のトークンが必要です。何も変更していません。",
}
