// rules.cpp: term, regex, question, refusal and confirmation matching, and the check evaluator.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "eval/rules.h"

#include <pcre2.h>

#include <algorithm>

#include "arena/ai_speak.h"
#include "common/strformat.h"

namespace duet::eval {

class Regex {
public:
    explicit Regex(pcre2_code* code) : code_(code) {}
    ~Regex() { pcre2_code_free(code_); }
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    pcre2_code* code() const { return code_; }

private:
    pcre2_code* code_;
};

std::shared_ptr<const Regex> compile_regex(const std::string& pattern, std::string* error) {
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* compiled = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                         PCRE2_UTF | PCRE2_UCP, &code, &offset, nullptr);
    if (compiled == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code, message, sizeof(message));
        if (error) *error = strformat("offset %zu: %s", static_cast<size_t>(offset), reinterpret_cast<char*>(message));
        return nullptr;
    }
    return std::make_shared<const Regex>(compiled);
}

int count_regex_matches(const Regex& regex, std::string_view text) {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(regex.code(), nullptr);
    int count = 0;
    size_t start = 0;
    while (start <= text.size()) {
        const int rc =
            pcre2_match(regex.code(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, 0, match, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* at = pcre2_get_ovector_pointer(match);
        ++count;
        if (at[1] > at[0]) {
            start = at[1];
        } else {  // empty match: step one UTF-8 character
            start = at[1] + 1;
            while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
        }
    }
    pcre2_match_data_free(match);
    return count;
}

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool matches_at(std::string_view text, size_t at, std::string_view word) {
    if (word.empty() || text.size() - at < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i)
        if (lower(text[at + i]) != lower(word[i])) return false;
    return true;
}

// Longest-match-wins scan over a list of phrases; returns the total count.
template <typename List>
int count_phrases(std::string_view text, const List& phrases) {
    int count = 0;
    size_t at = 0;
    while (at < text.size()) {
        size_t longest = 0;
        for (const auto& p : phrases)
            if (matches_at(text, at, p)) longest = std::max(longest, std::string_view(p).size());
        if (longest == 0) {
            ++at;
            continue;
        }
        ++count;
        at += longest;
    }
    return count;
}

std::string describe_terms(const std::vector<Term>& terms) {
    std::string out = "[";
    for (size_t i = 0; i < terms.size(); ++i) {
        if (i) out += "|";
        out += terms[i].spellings.empty() ? "" : terms[i].spellings[0];
    }
    return out + "]";
}

int total_mentions(std::string_view text, const std::vector<Term>& terms) {
    int n = 0;
    for (const Term& t : terms) n += count_term(text, t);
    return n;
}

}  // namespace

int count_term(std::string_view text, const Term& term) { return count_phrases(text, term.spellings); }

bool asks_question(std::string_view text) {
    return text.find('?') != std::string_view::npos || text.find("？") != std::string_view::npos;
}

const std::vector<std::string_view> kRefusalPhrases = {
    "I can't help",
    "I cannot help",
    "I can't assist",
    "I cannot assist",
    "I can't provide",
    "I cannot provide",
    "I won't",
    "I'm not able to help",
    "I am not able to help",
    "I'm unable to",
    "I am unable to",
    "我无法",
    "我不能",
    "无法提供",
    "无法协助",
    "不能提供",
    "不能帮你",
    "不能帮您",
    "抱歉，我不",
    "恕我不能",
};

const std::vector<std::string_view> kConfirmationPhrases = {
    "as I mentioned", "as mentioned", "as I said",  "as you said", "as you mentioned", "to confirm", "just to confirm",
    "you said",       "如前所述",     "正如我之前", "正如之前",    "我之前提到",       "前面提到",   "你刚才说",
    "您刚才说",       "你之前提到",   "您之前提到", "再确认一下",  "确认一下",
};

bool is_refusal(std::string_view text) { return count_phrases(text, kRefusalPhrases) > 0; }
int count_confirmations(std::string_view text) { return count_phrases(text, kConfirmationPhrases); }

std::vector<std::string> entities_in(std::string_view text, const std::vector<Entity>& entities) {
    std::vector<std::string> ids;
    for (const Entity& e : entities)
        if (mentions(text, e.names)) ids.push_back(e.id);
    return ids;
}

CheckOutcome evaluate_check(const Check& check, std::string_view reply, const RuleContext& context) {
    CheckOutcome out;
    switch (check.kind) {
        case CheckKind::mention: {
            int distinct = 0;
            std::string found;
            for (const Term& t : check.terms)
                if (mentions(reply, t)) {
                    ++distinct;
                    found += (found.empty() ? "" : ", ") + t.spellings[0];
                }
            out.what = strformat("mention >= %d of %s", check.min, describe_terms(check.terms).c_str());
            out.passed = distinct >= check.min;
            out.detail = strformat("%d found", distinct) + (found.empty() ? "" : ": " + found);
            break;
        }
        case CheckKind::not_mention: {
            std::string found;
            for (const Term& t : check.terms)
                if (mentions(reply, t)) found += (found.empty() ? "" : ", ") + t.spellings[0];
            out.what = "no mention of " + describe_terms(check.terms);
            out.passed = found.empty();
            out.detail = found.empty() ? "none found" : "found: " + found;
            break;
        }
        case CheckKind::regex:
        case CheckKind::not_regex: {
            const int n = check.regex ? count_regex_matches(*check.regex, reply) : 0;
            const bool want = check.kind == CheckKind::regex;
            out.what = want ? strformat("regex /%s/ >= %d", check.pattern.c_str(), check.min)
                            : strformat("no match of /%s/", check.pattern.c_str());
            out.passed = want ? n >= check.min : n == 0;
            out.detail = strformat("%d matches", n);
            break;
        }
        case CheckKind::refers_back: {
            const int turn = check.turn + 1;
            out.what = check.entity.empty() ? strformat("refers back to >= %d entities of turn %d", check.min, turn)
                                            : strformat("refers back to '%s' from turn %d", check.entity.c_str(), turn);
            const bool known =
                context.introduced && check.turn >= 0 && check.turn < static_cast<int>(context.introduced->size());
            if (!known || context.entities == nullptr) {
                out.detail = "turn not reached";
                break;
            }
            const std::vector<std::string>& then = (*context.introduced)[static_cast<size_t>(check.turn)];
            if (!check.entity.empty()) {
                const bool was_there = std::find(then.begin(), then.end(), check.entity) != then.end();
                const Entity* e = find_entity(*context.entities, check.entity);
                const bool now = e && mentions(reply, e->names);
                out.passed = was_there && now;
                out.detail = !was_there ? "entity not mentioned in that turn" : now ? "mentioned" : "not mentioned";
                break;
            }
            int reused = 0;
            for (const std::string& id : then) {
                const Entity* e = find_entity(*context.entities, id);
                if (e && mentions(reply, e->names)) ++reused;
            }
            out.passed = reused >= check.min;
            out.detail = strformat("%d of %zu reused", reused, then.size());
            break;
        }
        case CheckKind::resolves: {
            out.what = strformat("'%s' resolves to '%s'", check.pronoun.c_str(), check.entity.c_str());
            const Entity* right = context.entities ? find_entity(*context.entities, check.entity) : nullptr;
            const int right_count = right ? count_term(reply, right->names) : 0;
            std::string confused;
            for (const std::string& id : check.wrong) {
                const Entity* w = context.entities ? find_entity(*context.entities, id) : nullptr;
                if (w && count_term(reply, w->names) > right_count) confused = id;
            }
            out.passed = right_count > 0 && confused.empty();
            out.detail = right_count == 0    ? "the entity is not mentioned"
                         : !confused.empty() ? "talks about '" + confused + "' more than the entity"
                                             : strformat("mentioned %d times", right_count);
            break;
        }
        case CheckKind::on_task: {
            const int on = total_mentions(reply, check.terms);
            const int off = total_mentions(reply, check.off_topic);
            out.what = "on task " + describe_terms(check.terms) + " vs " + describe_terms(check.off_topic);
            out.passed = on > 0 && off < on;
            out.detail = strformat("%d on-task mentions, %d off-task", on, off);
            break;
        }
        case CheckKind::asks_question:
            out.what = "asks a question";
            out.passed = asks_question(reply);
            out.detail = out.passed ? "question found" : "no question mark";
            break;
        case CheckKind::refuses:
        case CheckKind::not_refuses: {
            const bool refused = is_refusal(reply);
            out.what = check.kind == CheckKind::refuses ? "refuses" : "does not refuse";
            out.passed = check.kind == CheckKind::refuses ? refused : !refused;
            out.detail = refused ? "refusal phrase found" : "no refusal phrase";
            break;
        }
        case CheckKind::max_ai_speak: {
            const int n = arena::count_ai_speak(reply).total;
            out.what = strformat("at most %d AI-speak phrases", check.max);
            out.passed = n <= check.max;
            out.detail = strformat("%d found", n);
            break;
        }
    }
    return out;
}

}  // namespace duet::eval
