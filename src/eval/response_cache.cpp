// response_cache.cpp: the runner's ResponseCache over store::ResponseCacheDb (SQLite), and the one-time import of
// the JSONL cache older duets wrote.
#include <filesystem>

#include "eval/runner.h"
#include "store/response_cache_db.h"

namespace duet::eval {
namespace {

store::CachedResponse to_store(const CachedReply& reply) {
    return {reply.text, reply.timing.ttft_seconds, reply.timing.total_seconds, reply.timing.chunk_intervals,
            reply.timing.chunk_chars};
}

CachedReply from_store(store::CachedResponse response) {
    CachedReply reply;
    reply.text = std::move(response.text);
    reply.timing.ttft_seconds = response.ttft_seconds;
    reply.timing.total_seconds = response.total_seconds;
    reply.timing.chunk_intervals = std::move(response.chunk_intervals);
    reply.timing.chunk_chars = std::move(response.chunk_chars);
    return reply;
}

class SqliteResponseCache final : public ResponseCache {
public:
    explicit SqliteResponseCache(std::unique_ptr<store::ResponseCacheDb> db) : db_(std::move(db)) {}

    // A read error is a miss: the call is then made again and its put() reports a broken file.
    std::optional<CachedReply> find(const std::string& key) override {
        Result<std::optional<store::CachedResponse>> found = db_->find(key);
        if (!found.ok() || !*found) return std::nullopt;
        return from_store(std::move(**found));
    }
    Status put(const std::string& key, const CachedReply& reply) override { return db_->put(key, to_store(reply)); }

private:
    std::unique_ptr<store::ResponseCacheDb> db_;
};

}  // namespace

Result<std::unique_ptr<ResponseCache>> open_response_cache(const std::string& sqlite_path,
                                                           const std::string& import_jsonl_path) {
    DUET_TRY(std::unique_ptr<store::ResponseCacheDb> db, store::ResponseCacheDb::open(sqlite_path));
    std::error_code ec;
    if (!import_jsonl_path.empty() && std::filesystem::exists(import_jsonl_path, ec)) {
        DUET_TRY(auto entries, read_jsonl_cache(import_jsonl_path));
        std::vector<std::pair<std::string, store::CachedResponse>> rows;
        rows.reserve(entries.size());
        for (const auto& [key, reply] : entries) rows.emplace_back(key, to_store(reply));
        DUET_TRY(int inserted, db->put_many_if_absent(rows));
        (void)inserted;
        std::filesystem::rename(import_jsonl_path, import_jsonl_path + ".imported", ec);
        if (ec)
            return Status::io_error("response cache: imported %s but cannot rename it: %s", import_jsonl_path.c_str(),
                                    ec.message().c_str());
    }
    return std::unique_ptr<ResponseCache>(std::make_unique<SqliteResponseCache>(std::move(db)));
}

}  // namespace duet::eval
