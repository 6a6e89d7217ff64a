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
}
