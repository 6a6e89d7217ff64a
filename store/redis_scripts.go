package store

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The timer scripts share timerlib.lua, prepended to each.
var (
	//go:embed lua/timerlib.lua
	luaTimerLib string
	//go:embed lua/load_by_key.lua
	luaLoadByKey string
	//go:embed lua/write_incident.lua
	luaWriteIncident string
	//go:embed lua/claim_due.lua
	luaClaimDue string
	//go:embed lua/complete.lua
	luaComplete string
	//go:embed lua/retry.lua
	luaRetry string
	//go:embed lua/abandon_claims.lua
	luaAbandonClaims string
	//go:embed lua/release.lua
	luaRelease string
	//go:embed lua/renew.lua
	luaRenew string
	//go:embed lua/set_timer.lua
	luaSetTimer string
	//go:embed lua/indexlib.lua
	luaIndexLib string
	//go:embed lua/delete_resolved.lua
	luaDeleteResolved string
	//go:embed lua/reindex.lua
	luaReindex string
	//go:embed lua/move_message.lua
	luaMoveMessage string
	//go:embed lua/calendar_tokens.lua
	luaCalendarTokens string
)

var scriptCalendarTokens = redis.NewScript(luaCalendarTokens)

//go:embed lua/verified.lua
var luaVerified string

var scriptVerified = redis.NewScript(luaVerified)

var (
	scriptLoadByKey     = redis.NewScript(luaLoadByKey)
	scriptMoveMessage   = redis.NewScript(luaMoveMessage)
	scriptWriteIncident = redis.NewScript(luaTimerLib + luaIndexLib + luaDeliveryLib + luaWriteIncident)
	scriptClaimDue      = redis.NewScript(luaTimerLib + luaClaimDue)
	scriptComplete      = redis.NewScript(luaTimerLib + luaComplete)
	scriptRetry         = redis.NewScript(luaTimerLib + luaRetry)
	scriptRelease       = redis.NewScript(luaTimerLib + luaRelease)
	scriptAbandonClaims = redis.NewScript(luaTimerLib + luaAbandonClaims)
	scriptSetTimer      = redis.NewScript(luaTimerLib + luaSetTimer)
	scriptRenew         = redis.NewScript(luaTimerLib + luaRenew)
	// The query indexes' scripts (redis_index.go).
	scriptDeleteResolved = redis.NewScript(luaTimerLib + luaIndexLib + luaDeliveryLib + luaDeleteResolved)
	scriptReindex        = redis.NewScript(luaIndexLib + luaReindex)
)
