// markdown_export.h: conversations as Markdown (the page's "export as Markdown"): one `# title` section per
// conversation, one `### role (model)` heading per message, reasoning in a <details> block before the answer.
// Message text is written as it is (it is Markdown already); a heading-breaking title is flattened to one line.
#pragma once

#include <string>
#include <vector>

#include "store/types.h"

namespace duet::store {

std::string export_markdown(const std::vector<ConversationWithMessages>& items);

// "2026-12-02 20:07 UTC"
std::string format_utc_minutes(TimeMs t);

}  // namespace duet::store
