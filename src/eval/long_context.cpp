// long_context.cpp: documents from seeded templates, chunking, the answer check and the two ways of answering
// (direct, summarise-then-answer). See long_context.h.
#include "eval/long_context.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace duet::eval {
namespace {

constexpr int kSentencesPerParagraph = 6;
constexpr int kFirstLength = 1000;

// splitmix64: small, seedable, the same sequence on every platform.
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return size_t(next() % n); }

private:
    uint64_t state_;
};

std::string generated_value(const std::string& slot, Rng& rng) {
    static constexpr char kLetters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";  // no I, O: never mistaken for 1, 0
    if (slot == "code") {
        std::string code;
        code += kLetters[rng.below(sizeof kLetters - 1)];
        code += char('1' + rng.below(9));
        code += '-';
        for (int i = 0; i < 4; ++i) code += char('0' + rng.below(10));
        return code;
    }
    return std::to_string(10 + rng.below(990));  // number
}

// Replaces each {slot} of `tmpl`: a value from `fixed` when present, else a fresh draw (generated or from the
// spec's list) that differs from `avoid`'s value for that slot whenever the list allows it.
std::string fill(const std::string& tmpl, const LongContextSpec& spec, Rng& rng,
                 const std::map<std::string, std::string>& fixed, const std::map<std::string, std::string>& avoid,
                 std::map<std::string, std::string>* drawn = nullptr) {
    std::string out;
    std::map<std::string, std::string> local;  // the fact: one value per slot, recorded in *drawn
    for (size_t i = 0; i < tmpl.size();) {
        const size_t close = tmpl[i] == '{' ? tmpl.find('}', i) : std::string::npos;
        if (close == std::string::npos) {
            out += tmpl[i++];
            continue;
        }
        const std::string slot = tmpl.substr(i + 1, close - i - 1);
        i = close + 1;
        if (const auto f = fixed.find(slot); f != fixed.end()) {
            out += f->second;
            continue;
        }
        if (const auto l = local.find(slot); drawn && l != local.end()) {
            out += l->second;
            continue;
        }
        const auto a = avoid.find(slot);
        std::string value;
        for (int attempt = 0; attempt < 8; ++attempt) {
            const auto list = spec.slots.find(slot);
            value =
                list == spec.slots.end() ? generated_value(slot, rng) : list->second[rng.below(list->second.size())];
            if (a == avoid.end() || value != a->second) break;
        }
        local[slot] = value;
        out += value;
    }
    if (drawn) *drawn = local;
    return out;
}

std::string join_sentences(const std::vector<std::string>& sentences, const std::string& language) {
    const std::string gap = language == "zh" ? "" : " ";
    std::string out;
    for (size_t i = 0; i < sentences.size(); ++i) {
        if (i > 0) out += i % kSentencesPerParagraph == 0 ? "\n\n" : gap;
        out += sentences[i];
    }
    return out;
}

std::string normalized(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (c == ' ' || c == '-') continue;
        out += char(c < 0x80 ? std::tolower(c) : c);
    }
    return out;
}

// The prompt as the transcript shows it: the document replaced by a one-line description.
std::string elided(const std::string& prompt, const std::string& document, const LongContextCase& c) {
    const size_t at = prompt.find(document);
    if (at == std::string::npos || document.empty()) return prompt;
    char what[160];
    std::snprintf(what, sizeof what, "[document of ~%d estimated tokens; the fact at %.0f%%: ", c.length_tokens,
                  c.position * 100);
    return prompt.substr(0, at) + what + c.fact_sentence + "]" + prompt.substr(at + document.size());
}

}  // namespace

int estimate_tokens(std::string_view text) {
    size_t ascii = 0, others = 0;
    for (unsigned char c : text) {
        if (c < 0x80) ++ascii;
        else if ((c & 0xC0) != 0x80) ++others;
    }
    return int((ascii + 3) / 4 + others);
}

std::vector<int> long_context_lengths(const LongContextSpec& spec, int context_tokens, int reserve_tokens,
                                      double tokens_per_estimated) {
    if (context_tokens <= 0) return spec.lengths;
    const int limit = int(double(context_tokens - reserve_tokens) / std::max(tokens_per_estimated, 0.01));
    std::vector<int> lengths;
    for (int n = kFirstLength; n < limit; n *= 2) lengths.push_back(n);
    if (limit > 0 && (lengths.empty() || lengths.back() != limit)) lengths.push_back(limit);
    return lengths;
}

LongContextCase make_long_context_case(const LongContextSpec& spec, int length, double position, uint64_t run_seed) {
    Rng rng((spec.seed * 0x100000001b3ull) ^ (run_seed * 0x9e3779b97f4a7c15ull) ^ (uint64_t(length) << 20) ^
            uint64_t(std::lround(position * 1000)));
    LongContextCase c;
    c.id = spec.id + "@" + std::to_string(length) + "/" + std::to_string(int(std::lround(position * 100)));
    c.language = spec.language;
    c.position = position;
    c.length = length;
    c.pipeline = spec.pipeline;
    std::map<std::string, std::string> fact_values;
    c.fact_sentence = fill(spec.fact, spec, rng, {}, {}, &fact_values);
    c.question = fill(spec.question, spec, rng, fact_values, {});
    for (const std::string& slot : spec.answer) c.expected.push_back(fact_values[slot]);

    // Bytes are counted over the whole document (estimating per sentence would round up each time). A separator
    // is counted as one ASCII byte in English and none in Chinese; paragraph breaks only add, so the document made
    // is never shorter than `length`.
    std::vector<std::string> sentences;
    size_t ascii = 0, others = 0;
    const auto count = [&](const std::string& sentence) {
        for (unsigned char ch : sentence) {
            if (ch < 0x80) ++ascii;
            else if ((ch & 0xC0) != 0x80) ++others;
        }
        if (spec.language != "zh") ++ascii;
    };
    count(c.fact_sentence);
    while (int((ascii + 3) / 4 + others) < length) {
        // A filler sentence never repeats the fact's entity or value (avoid), so the fact stays unique.
        sentences.push_back(fill(spec.filler[rng.below(spec.filler.size())], spec, rng, {}, fact_values));
        count(sentences.back());
    }
    const size_t at = std::min(sentences.size(), size_t(std::lround(position * double(sentences.size()))));
    sentences.insert(sentences.begin() + long(at), c.fact_sentence);
    c.document = join_sentences(sentences, spec.language);
    c.length_tokens = estimate_tokens(c.document);
    return c;
}

std::vector<std::string> split_into_chunks(const std::string& document, int max_tokens) {
    std::vector<std::string> sentences;
    size_t start = 0;
    for (size_t i = 0; i < document.size(); ++i) {
        size_t end = std::string::npos;
        if (document.compare(i, 3, "。") == 0 || document.compare(i, 3, "！") == 0 || document.compare(i, 3, "？") == 0)
            end = i + 3;
        else if ((document[i] == '.' || document[i] == '!' || document[i] == '?') &&
                 (i + 1 == document.size() || document[i + 1] == ' ' || document[i + 1] == '\n'))
            end = i + 1;
        else if (document[i] == '\n') end = i + 1;
        if (end == std::string::npos) continue;
        while (end < document.size() && (document[end] == ' ' || document[end] == '\n')) ++end;
        sentences.push_back(document.substr(start, end - start));
        start = end;
        i = end - 1;
    }
    if (start < document.size()) sentences.push_back(document.substr(start));

    std::vector<std::string> chunks;
    std::string current;
    for (const std::string& s : sentences) {
        if (!current.empty() && estimate_tokens(current) + estimate_tokens(s) > max_tokens) {
            chunks.push_back(std::move(current));
            current.clear();
        }
        current += s;
    }
    if (!current.empty()) chunks.push_back(std::move(current));
    return chunks;
}

bool long_context_answer_matches(const std::string& reply, const std::vector<std::string>& expected) {
    if (expected.empty()) return false;
    const std::string r = normalized(reply);
    return std::all_of(expected.begin(), expected.end(),
                       [&](const std::string& e) { return r.find(normalized(e)) != std::string::npos; });
}

std::string direct_prompt(const LongContextCase& c) {
    if (c.language == "zh")
        return "阅读下面的文档，然后回答问题。\n\n<document>\n" + c.document + "\n</document>\n\n问题：" + c.question +
               "\n请用一句话回答。";
    return "Read the document, then answer the question.\n\n<document>\n" + c.document +
           "\n</document>\n\nQuestion: " + c.question + "\nAnswer in one sentence.";
}

std::string summarise_prompt(const LongContextCase& c, const std::string& chunk, int index, int n_chunks) {
    const std::string i = std::to_string(index + 1), n = std::to_string(n_chunks);
    if (c.language == "zh")
        return "下面是一份长文档的第 " + i + " 部分（共 " + n +
               " 部分）。请用几句话概括，保留可能有助于回答这个问题的所有名称、地点、数字和编号：" + c.question +
               "\n\n<part>\n" + chunk + "\n</part>";
    return "This is part " + i + " of " + n +
           " of a long document. Summarise it in a few sentences. Keep every name, place, number and code that "
           "could help answer this question: " +
           c.question + "\n\n<part>\n" + chunk + "\n</part>";
}

std::string answer_from_summaries_prompt(const LongContextCase& c, const std::vector<std::string>& summaries) {
    const bool zh = c.language == "zh";
    std::string prompt = zh ? "以下是一份文档各部分的摘要，按顺序排列。\n\n"
                            : "These are summaries of the parts of a document, in order.\n\n";
    for (size_t i = 0; i < summaries.size(); ++i)
        prompt += (zh ? "第" + std::to_string(i + 1) + "部分：" : "Part " + std::to_string(i + 1) + ": ") +
                  summaries[i] + "\n\n";
    return prompt + (zh ? "问题：" + c.question + "\n请用一句话回答。"
                        : "Question: " + c.question + "\nAnswer in one sentence.");
}

LongContextOutcome run_long_context_direct(const LongContextCase& c, const TimedSend& send) {
    LongContextOutcome out;
    const std::string prompt = direct_prompt(c);
    Result<TimedReply> reply = send({{"user", prompt}});
    out.transcript.push_back({"user", elided(prompt, c.document, c)});
    if (!reply.ok()) {
        out.error = reply.status().message();
        return out;
    }
    out.transcript.push_back({"assistant", reply->text});
    out.calls.push_back(reply->timing);
    out.answer_seconds = reply->timing.total_seconds;
    out.correct = long_context_answer_matches(reply->text, c.expected);
    return out;
}

LongContextOutcome run_summarise_then_answer(const LongContextCase& c, const TimedSend& expert, const TimedSend& daily,
                                             int chunk_tokens) {
    LongContextOutcome out;
    const std::vector<std::string> chunks = split_into_chunks(c.document, chunk_tokens);
    out.chunks = int(chunks.size());
    std::vector<std::string> summaries;
    for (size_t i = 0; i < chunks.size(); ++i) {
        const std::string prompt = summarise_prompt(c, chunks[i], int(i), int(chunks.size()));
        char shown[96];
        std::snprintf(shown, sizeof shown, "[expert: summarise part %zu of %zu, ~%d estimated tokens]", i + 1,
                      chunks.size(), estimate_tokens(chunks[i]));
        out.transcript.push_back({"user", shown});
        Result<TimedReply> summary = expert({{"user", prompt}});
        if (!summary.ok()) {
            out.error = "summarise part " + std::to_string(i + 1) + ": " + summary.status().message();
            return out;
        }
        out.transcript.push_back({"assistant", summary->text});
        out.calls.push_back(summary->timing);
        out.summarise_seconds += summary->timing.total_seconds;
        summaries.push_back(summary->text);
    }
    const std::string prompt = answer_from_summaries_prompt(c, summaries);
    out.transcript.push_back({"user", "[daily] " + prompt});
    Result<TimedReply> reply = daily({{"user", prompt}});
    if (!reply.ok()) {
        out.error = "answer: " + reply.status().message();
        return out;
    }
    out.transcript.push_back({"assistant", reply->text});
    out.calls.push_back(reply->timing);
    out.answer_seconds = reply->timing.total_seconds;
    out.correct = long_context_answer_matches(reply->text, c.expected);
    return out;
}

}  // namespace duet::eval
