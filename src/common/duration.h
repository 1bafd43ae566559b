// duration.h: keep_alive-style durations (Ollama's and Go's spelling): "300" (seconds), "5m", "1h30m", "2.5s",
// "500ms", "0", and any negative value ("-1", "-1m") meaning forever (returned as -1).
#pragma once

#include <string_view>

#include "common/status.h"

namespace duet {

// Seconds (>= 0), or -1 for forever. Errors name the text and what was expected.
Result<double> parse_duration_seconds(std::string_view text);

}  // namespace duet
