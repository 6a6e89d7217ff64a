package catalog

func init() { Add("ja", ja) }

// ja is hikyaku's Japanese.
var ja = Messages{
	// sms. and voice. (channels/twilio)

	// email. (channels/email)
	"email.reply.already_resolved": "インシデント #%d は既に解決済みです。変更はありません。",
	"email.reply.no_incident":      "インシデント #%d はありません。変更はありません。",
	"email.reply.already_acked":    "インシデント #%d は既に %s さんが了解済みです。",
	"email.reply.acked":            "インシデント #%d を %s さんが了解しました（メール）。エスカレーションを停止しました。",
	"email.reply.resolved":         "インシデント #%d を %s さんが解決済みにしました（メール）。",
	"email.reply.escalated":        "インシデント #%d を %s さんがエスカレーションしました（メール）。次の段階を呼び出します。",
	// The reasons have no Japanese words yet: the notice names the code.
	"email.refused.subject": "[hikyaku #%d] メールの返信を確認できませんでした",
	"email.refused.text": "インシデント #%[1]d へのあなたのアドレスからの返信は送信者を確認できなかったため（%[3]s）、何も変更していません。\n\n" +
		"メールで操作するには、このメールに返信してください（返信先アドレスがご本人であることを証明します）。" +
		"ページのリンク、Slack、SMS、hikyaku CLI でも操作できます。\n",

	// slack. (channels/slack)

	// link. (router/links.go)

	// template. and report. (channels/template, router/bundle.go)

	// ntfy. (channels/ntfy)

	// console. (access/, router/console.go: sign-in and the console)
	"console.sign_in":            "サインイン",
	"console.sign_out":           "サインアウト",
	"console.signed_in_as":       "%s (%s) としてサインイン中",
	"console.open_incidents":     "未解決のインシデント",
	"console.no_incidents":       "未解決のインシデントはありません。",
	"console.ack":                "了解",
	"console.acked":              "インシデント #%d を %s が了解しました。",
	"console.ack_failed":         "インシデント #%d は了解されませんでした: %s",
	"console.back":               "インシデント一覧に戻る",
	"console.not_signed_in":      "サインインしていません。",
	"console.signed_out":         "サインアウトしました。",
	"console.no_oidc":            "ここでは OpenID Connect によるサインインは設定されていません。",
	"console.provider_down":      "現在 ID プロバイダーに接続できません。呼び出しには影響ありません。少し待ってからもう一度お試しください。",
	"console.refused_flow":       "このサインインは開始から時間が経ちすぎたか、別のブラウザーで開始されました。もう一度やり直してください。",
	"console.refused_provider":   "ID プロバイダーがサインインを拒否しました (%s)。",
	"console.refused_token":      "ID プロバイダーの応答を検証できませんでした (%s)。もう一度サインインしてください。繰り返し起きる場合は管理者に連絡してください。",
	"console.refused_unverified": "ID プロバイダーはメールアドレス %s が確認済みだと示していないため、hikyaku はそれがあなたのものか判断できません。",
	"console.refused_unknown":    "hikyaku の設定に、メールアドレス %s を持つユーザーはいません。管理者に、あなたのユーザーの contacts.email に設定するよう依頼してください。",
	"console.refused_csrf":       "このフォームは拒否されました: %s。ページを再読み込みしてもう一度お試しください。",
}
