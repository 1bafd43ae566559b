// long_context.h: the long-context suite and the summarise-then-answer pipeline. Pure logic: models are callbacks.
//
// A suite line of kind "longctx" (schema in evals/README.md) is a generator, not a document: filler sentence
// templates, slot values, one fact template and a question. For each (length, position) it makes a document of
// about `length` tokens whose fact sentence sits at `position` (0 = first sentence, 1 = last), drawing slot values
// from a PRNG seeded by (spec seed, run seed, length, position), so any length can be made and the same seed always
// makes the same document. Filler may mention the same kind of thing as the fact (other rooms, other codes): the
// question names the fact's entity, so the answer has to be the one next to it.
//
//   document:  filler filler ... filler [FACT] filler ... filler        (sentence boundaries, paragraphs of 6)
//                                       ^ position * n_sentences
//   direct:    one call to each target: document + question -> reply; correct = every `answer` value occurs
//   pipeline:  document -> chunks of <= chunk_tokens at sentence boundaries
//              -> expert: summarise chunk i of n, keeping what could answer the question   (one call per chunk)
//              -> daily: the summaries in order + question -> reply; correct as above
//              summarise_seconds = sum of the expert calls' times (chunks go one after another),
//              answer_seconds = the daily call's time
//
// Documents are made to a length in estimated tokens (one per 4 ASCII bytes, one per non-ASCII code point: a CJK
// character is about one token in Llama-3 / Qwen2 vocabularies), not in any target's tokens, on purpose: every
// target must get the very same document, and two targets' tokenizers count the same text differently. Lengths are
// therefore labels ("~4000 estimated tokens"); what each target really saw is its own count, usage.prompt_tokens,
// recorded per call and shown beside the lengths in the report. Where a target has a tokenizer endpoint (/tokenize:
// duet serve, llama-server, vLLM) the runner measures tokens per estimated token on a sample document and uses it
// to fit --context lengths and the pipeline's chunks to real tokens (runner.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "eval/dialogue.h"
#include "eval/results.h"

namespace duet::eval {

// LongContextSpec (the suite line) is in suite.h.

// One generated document and its question.
struct LongContextCase {
    std::string id;  // spec id @ length / position percent: "vault-en@4000/50"
    std::string language;
    std::string document;
    std::string question;
    std::vector<std::string> expected;  // values the reply must contain
    std::string fact_sentence;          // the fact as it stands in the document
    int length = 0;                     // requested length (estimated tokens)
    int length_tokens = 0;              // estimated tokens of the document as made
    double position = 0;                // requested position
    bool pipeline = true;
};

int estimate_tokens(std::string_view text);

// The lengths a spec runs at: its own list, or, when context_tokens > 0, 1000, 2000, 4000, ... up to what fits in
// context_tokens with the prompt and the reply ((context_tokens - reserve_tokens) / tokens_per_estimated, included
// as the last length). tokens_per_estimated: the targets' own tokens per estimated token (from their /tokenize; 1
// when unknown), so the longest document fits the real context.
std::vector<int> long_context_lengths(const LongContextSpec& spec, int context_tokens, int reserve_tokens,
                                      double tokens_per_estimated = 1.0);

LongContextCase make_long_context_case(const LongContextSpec& spec, int length, double position, uint64_t run_seed);

// Splits at sentence ends (". ", "。", "！", "？", "\n") into chunks of at most max_tokens estimated tokens (a single
// longer sentence becomes its own chunk). Concatenating the chunks gives the document back.
std::vector<std::string> split_into_chunks(const std::string& document, int max_tokens);

// Every expected value occurs in the reply (ASCII case-insensitively; spaces and hyphens inside a code ignored, so
// "k7 4931" matches "K7-4931").
bool long_context_answer_matches(const std::string& reply, const std::vector<std::string>& expected);

std::string direct_prompt(const LongContextCase& c);
std::string summarise_prompt(const LongContextCase& c, const std::string& chunk, int index, int n_chunks);
std::string answer_from_summaries_prompt(const LongContextCase& c, const std::vector<std::string>& summaries);

// A model call with its timing (from the stream, or the cache).
struct TimedReply {
    std::string text;
    CallTiming timing;
};
using TimedSend = std::function<Result<TimedReply>(const std::vector<Message>& history)>;

struct LongContextOutcome {
    bool correct = false;
    std::string error;  // a call failed; `correct` is then false and scores are absent
    std::vector<Message> transcript;
    std::vector<CallTiming> calls;
    int chunks = 0;                // pipeline only
    double summarise_seconds = 0;  // pipeline only
    double answer_seconds = 0;     // the answering call (direct: the only call)
};

LongContextOutcome run_long_context_direct(const LongContextCase& c, const TimedSend& send);
LongContextOutcome run_summarise_then_answer(const LongContextCase& c, const TimedSend& expert, const TimedSend& daily,
                                             int chunk_tokens = 3000);

// Parses one suite line of kind "longctx"; errors read "<where>: <reason>".
Result<LongContextSpec> parse_long_context_line(const std::string& line, const std::string& where);

}  // namespace duet::eval
