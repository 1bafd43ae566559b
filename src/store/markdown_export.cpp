// markdown_export.cpp: see markdown_export.h.
#include "store/markdown_export.h"

#include <ctime>

#include "common/strformat.h"

namespace duet::store {

std::string format_utc_minutes(TimeMs t) {
    std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return strformat("%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min);
}

namespace {

std::string one_line(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

}  // namespace

std::string export_markdown(const std::vector<ConversationWithMessages>& items) {
    std::string out;
    for (const auto& item : items) {
        const Conversation& c = item.conversation;
        out += "# " + one_line(c.title) + "\n\n";
        out += "_" + format_utc_minutes(c.created_at) + " · mode: " + one_line(c.mode) + "_\n\n";
        for (const auto& m : item.messages) {
            out += "### ";
            out += role_name(m.role);
            if (m.model) out += " (" + one_line(*m.model) + ")";
            out += "\n\n";
            if (m.system_prompt_sent) out += "> system prompt sent: " + one_line(*m.system_prompt_sent) + "\n\n";
            if (m.reasoning && !m.reasoning->empty()) {
                out += "<details><summary>Reasoning</summary>\n\n" + *m.reasoning + "\n\n</details>\n\n";
            }
            out += m.content + "\n\n";
        }
    }
    return out;
}

}  // namespace duet::store
