// bench_store.cpp: the store's speed on a real SQLite file under $TMPDIR: opening a 500-message conversation (the
// page's "open conversation"), one acknowledged append with synchronous=FULL vs NORMAL (the cost of an fsync per
// commit), inserting 100,000 battles and reading them all back for the leaderboard (streamed and paged).
//   duet_bench_bench_store --benchmark_filter=Load
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/store.h"

namespace {

using namespace duet::store;

class BenchDir {
public:
    BenchDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/duet-bench-store-XXXXXX";
        path_ = mkdtemp(tmpl.data()) ? tmpl : "/tmp";
    }
    ~BenchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file() const { return path_ + "/duet.db"; }

private:
    std::string path_;
};

std::unique_ptr<Store> open_or_die(const std::string& path, bool full = true) {
    auto s = Store::open_file(path, DatabaseOptions{full, true});
    if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.status().message().c_str());
        std::abort();
    }
    return std::move(s).value();
}

// A 500-message conversation (user/assistant alternating, ~600 bytes each, reasoning on answers).
void BM_LoadConversation500(benchmark::State& state) {
    BenchDir dir;
    auto store = open_or_die(dir.file());
    Conversation draft;
    draft.title = "long";
    std::string id = store->conversations().create(draft)->id;
    std::vector<MessageDraft> messages(500);
    for (int i = 0; i < 500; ++i) {
        messages[i].role = i % 2 ? Role::assistant : Role::user;
        messages[i].content = std::string(600, static_cast<char>('a' + i % 26));
        if (i % 2) {
            messages[i].reasoning = std::string(300, 'r');
            messages[i].model = "r1";
            messages[i].timings.ttft_ms = 200;
        }
    }
    (void)store->conversations().replace_tail(id, 0, messages);
    for (auto _ : state) {
        auto full = store->conversations().get_with_messages(id);
        if (!full.ok() || full->messages.size() != 500) state.SkipWithError("load failed");
        benchmark::DoNotOptimize(full);
    }
}
BENCHMARK(BM_LoadConversation500)->Unit(benchmark::kMillisecond);

// One append = one committed transaction; arg 1: synchronous=FULL, 0: NORMAL.
void BM_AppendMessage(benchmark::State& state) {
    BenchDir dir;
    auto store = open_or_die(dir.file(), state.range(0) != 0);
    Conversation draft;
    draft.title = "appends";
    std::string id = store->conversations().create(draft)->id;
    MessageDraft m;
    m.content = std::string(300, 'x');
    for (auto _ : state) {
        if (!store->conversations().append(id, m).ok()) state.SkipWithError("append failed");
    }
}
BENCHMARK(BM_AppendMessage)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

std::vector<BattleDraft> battle_drafts(int n) {
    const char* models[] = {"r1", "llama3", "qwen", "mistral"};
    std::vector<BattleDraft> drafts(n);
    for (int i = 0; i < n; ++i) {
        drafts[i].model_a = models[i % 4];
        drafts[i].model_b = models[(i / 4 + 1 + i) % 4];
        drafts[i].route = i % 3 ? "daily" : "expert";
        drafts[i].router_pick = models[i % 2];
        drafts[i].language = i % 5 ? "en" : "zh";
    }
    return drafts;
}

// 100,000 battles in one transaction.
void BM_InsertBattles100k(benchmark::State& state) {
    auto drafts = battle_drafts(100000);
    for (auto _ : state) {
        state.PauseTiming();
        BenchDir dir;
        auto store = open_or_die(dir.file());
        state.ResumeTiming();
        auto ids = store->arena().create_battles(drafts);
        if (!ids.ok() || ids->size() != drafts.size()) state.SkipWithError("insert failed");
        state.PauseTiming();
        store.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(drafts.size()));
}
BENCHMARK(BM_InsertBattles100k)->Unit(benchmark::kMillisecond)->Iterations(3);

struct BattleFixture {
    BenchDir dir;
    std::unique_ptr<Store> store;
    BattleFixture() : store(open_or_die(dir.file())) {
        auto ids = store->arena().create_battles(battle_drafts(100000));
        // Half of them voted, written in one transaction (ArenaStore::vote commits each vote on its own).
        (void)store->database().write([&](Connection& conn) -> duet::Status {
            for (size_t i = 0; i < ids->size(); i += 2) {
                DUET_TRY(Statement s,
                         conn.prepare("INSERT INTO votes (battle_id, winner, created_at) VALUES (?1, ?2, 1)"));
                DUET_RETURN_IF_ERROR(s.bind(1, (*ids)[i]).bind(2, i % 4 ? "a" : "tie").run());
            }
            return {};
        });
    }
};

// Every battle with its vote, streamed from one snapshot (what the leaderboard reads).
void BM_ForEachBattle100k(benchmark::State& state) {
    BattleFixture f;
    for (auto _ : state) {
        int64_t n = 0;
        (void)f.store->arena().for_each_battle([&](const BattleRecord& r) {
            n += r.battle.id > 0;
            return true;
        });
        if (n != 100000) state.SkipWithError("wrong count");
    }
    state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_ForEachBattle100k)->Unit(benchmark::kMillisecond);

// The same through list_battles pages of 1,000 (100 read transactions).
void BM_ListBattlesPaged100k(benchmark::State& state) {
    BattleFixture f;
    for (auto _ : state) {
        int64_t n = 0, after = 0;
        for (;;) {
            auto page = f.store->arena().list_battles(after, 1000);
            if (!page.ok() || page->empty()) break;
            n += static_cast<int64_t>(page->size());
            after = page->back().battle.id;
        }
        if (n != 100000) state.SkipWithError("wrong count");
    }
    state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_ListBattlesPaged100k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
