package catalog

func init() { Add("ja", ja) }

// ja is hikyaku's Japanese.
var ja = Messages{
	// sms. and voice. (channels/twilio)
	"sms.done.ack":       "#%d 了解しました。エスカレーションを停止しました。",
	"sms.done.resolve":   "#%d を解決済みにしました。",
	"sms.done.escalate":  "#%d を次の段階へエスカレーションしました。",
	"sms.verb.ack":       "了解",
	"sms.verb.resolve":   "解決",
	"sms.verb.escalate":  "エスカレ",
	"sms.already_acked":  "#%d は%sさんが既に了解済みです。変更はありません。",
	"sms.resolved":       "#%d は既に解決済みです。変更はありません。",
	"sms.not_found":      "インシデント #%d はありません。変更はありません。",
	"sms.none_open":      "対応待ちの呼び出しはありません。番号を付けて返信してください（例:「12 了解」）。",
	"sms.several":        "対応待ち: %s。番号を付けて返信してください（例:「%d %s」）。",
	"sms.more":           "（他%d件）",
	"sms.help":           "了解:「12 了解」か「12a」、解決:「12r」、エスカレーション:「12e」。番号なしの「了解」は対応待ちが一件のときだけ。STOPでSMS停止、STARTで再開。",
	"sms.not_understood": "読み取れませんでした。",
	"sms.unknown":        "この番号は飛脚に登録されていません。変更はありません。",
	"sms.stop":           "SMSでの呼び出しを停止しました。他の連絡手段で呼び出します。再開するには START と返信してください。",
	"sms.start":          "SMSでの呼び出しを再開しました。",
	"sms.failed":         "記録できませんでした。もう一度送ってください。",

	"voice.done.ack":      "了解しました。エスカレーションを停止しました。",
	"voice.done.escalate": "次の段階へエスカレーションしました。",
	"voice.done.resolve":  "解決済みにしました。",
	"voice.already_acked": "このインシデントは%sさんが既に了解済みです。変更はありません。",
	"voice.resolved":      "このインシデントは既に解決済みです。変更はありません。",
	"voice.not_found":     "このインシデントは見つかりません。変更はありません。",
	"voice.unknown":       "この番号は飛脚に登録されていません。変更はありません。",
	"voice.failed":        "申し訳ありません。記録できませんでした。",

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
	"slack.not_user":      "飛脚のユーザーではないため、何も変更していません。管理者に Slack ID (%s) を users[].contacts.slack へ追加するよう依頼してください。",
	"slack.no_incident":   "このボタンはインシデントを指していません。何も変更していません。",
	"slack.not_found":     "インシデント #%d はありません。何も変更していません。",
	"slack.resolved":      "インシデント #%d は既に解決済みです。何も変更していません。",
	"slack.failed":        "インシデント #%d への操作を記録できませんでした。もう一度押してください。",
	"slack.already_acked": "インシデント #%d は%sさんが既に了解済みです。",

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
