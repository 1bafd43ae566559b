// runner.h: `duet eval run` as a library: resolves suite names to files, runs every item against every target
// through an OpenAI-compatible endpoint (streamed, timed, retried, cached), scores it and asks the optional judge.
//
//   targets x items --> work queue --> `concurrency` workers --> ModelCaller::chat (cache hit? else stream with
//   retries on 5xx / timeout / transport, backoff doubling) --> score (rules, clarification loop, letter, sandbox)
//   --> ItemResult; then the summarise-then-answer pipeline over the long-context items (expert target summarises,
//   daily target answers) as one more TargetResults; the stop flag (SIGINT) stops workers taking new items; in-flight items finish. A rerun with the
//   same --out finds the finished calls in the cache and sends only what is missing.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/results.h"
#include "openai/client.h"

namespace duet::eval {

struct Target {
    std::string name, url, model;  // model "" sends no "model" field
};
// NAME=URL[#model] (targets), URL[#model] (judge, named "judge").
Result<Target> parse_target(const std::string& spec, bool named = true);

// A finished model call as cached: the reply text and its timing.
struct CachedReply {
    std::string text;
    CallTiming timing;
};

// Responses keyed by cache_key(): the target's name, URL and model and a 128-bit hash of the exact request body, so
// any change to the request (messages, max_tokens, seed, model) is a miss. Kept in a SQLite file
// (store::ResponseCacheDb: WAL, every put committed and fsynced before it returns, no torn entries after a kill).
class ResponseCache {
public:
    virtual ~ResponseCache() = default;
    virtual std::optional<CachedReply> find(const std::string& key) = 0;
    virtual Status put(const std::string& key, const CachedReply& reply) = 0;
};
// Opens (or creates) the SQLite cache at `sqlite_path`. When `import_jsonl_path` names an existing file (the JSONL
// cache duet wrote before the SQLite one: DIR/cache.jsonl), its entries are imported once in one transaction
// (entries already in the SQLite file win) and the file is renamed to `<name>.imported`, so an interrupted run
// started with an older duet resumes without resending anything.
Result<std::unique_ptr<ResponseCache>> open_response_cache(const std::string& sqlite_path,
                                                           const std::string& import_jsonl_path = "");
// The legacy JSONL cache: one {"key", "text", "timing"} object per line; torn or malformed lines are skipped.
Result<std::vector<std::pair<std::string, CachedReply>>> read_jsonl_cache(const std::string& path);
std::string cache_key(const Target& target, const std::string& request_body);

struct CallPolicy {
    int max_retries = 3;
    double backoff_seconds = 0.5;  // first wait; doubles per retry
    double read_timeout_seconds = 120;
    std::string api_key;
};

// One target's chat endpoint with cache and retries. Thread-safe.
class ModelCaller {
public:
    ModelCaller(Target target, CallPolicy policy, ResponseCache* cache);
    // Streams a chat completion of `messages` (temperature 0, the run's seed). Errors describe the last attempt.
    Result<CachedReply> chat(const std::vector<Message>& messages, int max_tokens, uint64_t seed);
    // The log-probability of `continuation` after `context` through /v1/completions with echo + logprobs (no
    // generation: max_tokens 0): the sum over the echoed tokens that end past the context. Errors when the target
    // does not support it.
    Result<double> continuation_logprob(const std::string& context, const std::string& continuation);
    // The target's own token count of `text` through its tokenizer endpoint (POST /tokenize at the server's root:
    // duet serve and llama-server answer {"tokens": [...]}, vLLM also "count"). Errors when there is none (Ollama,
    // OpenAI). Not cached: it describes the live target.
    Result<int> count_tokens(const std::string& text);
    int requests_sent() const { return sent_.load(); }

private:
    openai::Client make_client() const;
    Target target_;
    CallPolicy policy_;
    ResponseCache* cache_;
    std::atomic<int> sent_{0};
};

// How long-context items are made: the documents' seed and, when context_tokens > 0, lengths 1K, 2K, 4K, ... up to
// context_tokens - reserve_tokens instead of the suite's own list.
struct LongContextOptions {
    uint64_t seed = 0;
    int context_tokens = 0;
    int reserve_tokens = 0;           // the reply and the instructions around the document
    double tokens_per_estimated = 1;  // the targets' tokens per estimated token (see long_context_lengths)
};

struct RunOptions {
    std::vector<std::string> suites;  // names (flows, probes, clarify, ceval, humaneval, longctx) or paths
    std::string evals_dir = "evals";
    std::vector<Target> targets;
    std::optional<Target> judge;
    uint64_t seed = 0;
    int concurrency = 4;
    int max_tokens = 512;
    CallPolicy policy;
    std::string cache_path;         // SQLite response cache; "" : no cache
    std::string import_cache_path;  // legacy JSONL cache to import (see open_response_cache)
    int context_tokens = 0;         // the targets' context: long-context lengths 1K ... this (0: the suite's lengths)
    // The summarise-then-answer pipeline on long-context items: the target that summarises (`expert`) and the one
    // that answers from the summaries (`daily`), by --target name; both empty: no pipeline. Its items are reported
    // as one more target, "pipeline:EXPERT>DAILY", next to the direct answers.
    std::string pipeline_expert, pipeline_daily;
    int chunk_tokens =
        3000;  // the longest chunk the expert summarises: its tokens when it has /tokenize, else estimated
    const std::atomic<bool>* stop = nullptr;           // set (e.g. by SIGINT) to stop taking new items
    int stop_after_items = -1;                         // stop after this many items have started (tests)
    std::function<void(const std::string&)> progress;  // one line per update ("[#####---] 12/80 target item")
};

// A loaded suite item: what to run and where it came from.
struct SuiteItems;
// Loads and checks every suite before anything is sent; the first bad file fails with file:line: reason.
Result<std::shared_ptr<const SuiteItems>> load_suites(const std::vector<std::string>& suites,
                                                      const std::string& evals_dir,
                                                      const LongContextOptions& long_context = {});
LongContextOptions long_context_options(const RunOptions& options);
std::string resolve_suite_path(const std::string& suite, const std::string& evals_dir);

Result<RunResults> run_eval(const RunOptions& options);

// The judge's prompt and its verdict parsed from a reply ("A", "B", "tie"; "" when unreadable).
std::string parse_judge_verdict(const std::string& reply);

}  // namespace duet::eval
