package catalog

func init() { Add("ja", ja) }

// ja is hikyaku's Japanese.
var ja = Messages{
	// sms. and voice. (channels/twilio)

	// email. (channels/email)

	// slack. (channels/slack)

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
}
