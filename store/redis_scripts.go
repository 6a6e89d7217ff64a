package store

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The timer scripts share timerlib.lua, prepended to each.
var (
	//go:embed lua/timerlib.lua
	luaTimerLib string
	//go:embed lua/apply_timers.lua
	luaApplyTimers string
	//go:embed lua/claim_due.lua
	luaClaimDue string
	//go:embed lua/complete.lua
	luaComplete string
	//go:embed lua/retry.lua
	luaRetry string
	//go:embed lua/release.lua
	luaRelease string
)

var (
	scriptApplyTimers = redis.NewScript(luaTimerLib + luaApplyTimers)
	scriptClaimDue    = redis.NewScript(luaTimerLib + luaClaimDue)
	scriptComplete    = redis.NewScript(luaTimerLib + luaComplete)
	scriptRetry       = redis.NewScript(luaTimerLib + luaRetry)
	scriptRelease     = redis.NewScript(luaTimerLib + luaRelease)
)
