package policies

// The registry hands config its channels: without them no test
// configuration with contacts would load.
import _ "github.com/hikyaku/hikyaku/channels/all"
