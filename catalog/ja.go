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

	// incident. and timeline. (router/incident_roles.go, router/timeline_export.go)
	"incident.role.ic":                  "指揮 (IC)",
	"incident.role.ops":                 "復旧 (Ops)",
	"incident.role.comm":                "連絡 (Comm)",
	"incident.role.rec":                 "記録 (Rec)",
	"incident.unknown":                  "未確定",
	"incident.field.impact":             "影響範囲",
	"incident.field.severity":           "暫定Severity",
	"incident.field.current_severity":   "現在のSeverity",
	"incident.field.cause":              "原因",
	"incident.field.action_provisional": "対応 (暫定)",
	"incident.field.action_permanent":   "対応 (恒久)",
	"incident.field.prevention":         "再発防止 (チケット)",
	"timeline.title":                    "インシデント #%d: %s",
	"timeline.department":               "部署",
	"timeline.status":                   "状態",
	"timeline.opened":                   "発生",
	"timeline.acked":                    "了解",
	"timeline.resolved":                 "復旧",
	"timeline.figures":                  "主要な数値",
	"timeline.time_to_ack":              "了解までの時間",
	"timeline.time_to_resolve":          "復旧までの時間",
	"timeline.people_paged":             "呼び出した人数",
	"timeline.steps_fired":              "実行したステップ",
	"timeline.reports_sent":             "送った報告",
	"timeline.not_yet":                  "未了",
	"timeline.roles":                    "役割",
	"timeline.fields":                   "報告の項目",
	"timeline.decisions":                "決定事項",
	"timeline.no_decisions":             "記録なし",
	"timeline.events":                   "経過 (%s)",
	"timeline.col.time":                 "時刻",
	"timeline.col.event":                "出来事",
	"timeline.col.actor":                "実行者",
	"timeline.col.channel":              "経路",
	"timeline.col.result":               "結果",
	"timeline.decision":                 "決定",
	"timeline.role_released":            "%s: 解除 (%s)",

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

	// access. (access/roles.go)
	"access.unknown":       "%s は設定されたユーザーではありません。何も変更していません。",
	"access.viewer":        "あなたは %s の閲覧者です。閲覧者は操作できません。何も変更していません。",
	"access.no_role":       "インシデント #%d は %s のもので、あなたはそこで役割がなく、呼び出されてもいません。何も変更していません。",
	"access.admin_only":    "%s は部署の管理者だけが行えます。何も変更していません。",
	"access.service_admin": "共有の api_token はインシデントの操作だけができます。%s には管理者自身のトークンが必要です。何も変更していません。",
}
