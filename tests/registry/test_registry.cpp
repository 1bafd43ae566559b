// test_registry.cpp: the model registry: lookups (default = first, unknown -> not_found), states (loading ->
// ready | failed with file and reason), the KV split across entries, and a real GGUF entry (stories260K).
#include <gtest/gtest.h>

#include <fstream>

#include "registry/fake_serving.h"
#include "registry/registry.h"
#include "support/fixtures.h"

namespace duet::test {
namespace {

using registry::ModelState;
using registry::Registry;

// A scripted entry kind: fails where told to, records the KV share it was given.
struct Script {
    size_t bytes_per_block = 0;
    Status open_error, start_error;
    size_t given_kv = SIZE_MAX;
    int n_stops = 0;
};

class ScriptedBackend final : public registry::ModelBackend {
public:
    ScriptedBackend(std::string source, Script* script) : source_(std::move(source)), script_(script) {}
    std::string source() const override { return source_; }
    Result<size_t> open(const registry::LoadSettings&) override {
        if (!script_->open_error.ok()) return script_->open_error;
        return script_->bytes_per_block;
    }
    Result<registry::Serving> start(const registry::LoadSettings&, size_t kv_memory_bytes) override {
        script_->given_kv = kv_memory_bytes;
        if (!script_->start_error.ok()) return script_->start_error;
        registry::Serving s;
        s.engine = std::make_shared<IdleEngine>(1234);
        s.codec = std::make_shared<NullCodec>();
        s.context_length = 1234;
        return s;
    }
    void stop() override { ++script_->n_stops; }

private:
    std::string source_;
    Script* script_;
};

std::unique_ptr<registry::ModelBackend> scripted(const std::string& source, Script* script) {
    return std::make_unique<ScriptedBackend>(source, script);
}

TEST(Registry, EmptyRegistryIsUnavailable) {
    Registry r;
    auto found = r.find("");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.status().code(), StatusCode::unavailable);
    EXPECT_FALSE(r.all_ready());
}

TEST(Registry, DefaultIsTheFirstAddedAndUnknownNamesAreNotFound) {
    Script a, b;
    Registry r;
    ASSERT_TRUE(r.add("alpha", scripted("a.gguf", &a)).ok());
    ASSERT_TRUE(r.add("beta", scripted("b.gguf", &b), registry::Role::expert).ok());
    ASSERT_TRUE(r.load_all().ok());
    auto def = r.find("");
    ASSERT_TRUE(def.ok());
    EXPECT_EQ((*def)->name(), "alpha");
    auto beta = r.find("beta");
    ASSERT_TRUE(beta.ok());
    EXPECT_EQ((*beta)->name(), "beta");
    EXPECT_EQ((*beta)->role(), registry::Role::expert);
    EXPECT_EQ((*beta)->context_length(), 1234);
    EXPECT_TRUE((*beta)->capabilities().chat);
    auto unknown = r.find("gamma");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.status().code(), StatusCode::not_found);
    EXPECT_NE(unknown.status().message().find("gamma"), std::string::npos);
    ASSERT_EQ(r.entries().size(), 2u);
    EXPECT_EQ(r.entries()[0]->name(), "alpha");
    EXPECT_EQ(r.entries()[1]->name(), "beta");
}

TEST(Registry, RejectsDuplicateAndEmptyNames) {
    Script a;
    Registry r;
    ASSERT_TRUE(r.add("alpha", scripted("a.gguf", &a)).ok());
    const Status twice = r.add("alpha", scripted("a2.gguf", &a));
    EXPECT_EQ(twice.code(), StatusCode::invalid_argument);
    EXPECT_NE(twice.message().find("alpha"), std::string::npos);
    EXPECT_EQ(r.add("", scripted("x.gguf", &a)).code(), StatusCode::invalid_argument);
    EXPECT_EQ(r.size(), 1u);
}

TEST(Registry, EntriesMoveFromLoadingToReady) {
    Script a;
    Registry r;
    ASSERT_TRUE(r.add("alpha", scripted("a.gguf", &a)).ok());
    EXPECT_EQ(r.entries()[0]->state(), ModelState::loading);
    auto loading = r.find("alpha");
    ASSERT_FALSE(loading.ok());
    EXPECT_EQ(loading.status().code(), StatusCode::unavailable);
    EXPECT_NE(loading.status().message().find("loading"), std::string::npos);
    EXPECT_TRUE(r.ready_entries().empty());
    ASSERT_TRUE(r.load_all().ok());
    EXPECT_EQ(r.entries()[0]->state(), ModelState::ready);
    EXPECT_STREQ(registry::state_name(r.entries()[0]->state()), "ready");
    EXPECT_TRUE(r.all_ready());
    EXPECT_EQ(r.ready_entries().size(), 1u);
}

TEST(Registry, FailedLoadKeepsFileAndReasonAndTheOthersStillLoad) {
    Script bad, good;
    bad.open_error = Status::invalid_data("bad magic 'XXXX'");
    Registry r;
    ASSERT_TRUE(r.add("broken", scripted("/models/broken.gguf", &bad)).ok());
    ASSERT_TRUE(r.add("fine", scripted("/models/fine.gguf", &good)).ok());
    const Status st = r.load_all();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::invalid_data);
    for (const char* part : {"broken", "/models/broken.gguf", "bad magic 'XXXX'"})
        EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
    const auto entry = r.entries()[0];
    EXPECT_EQ(entry->state(), ModelState::failed);
    EXPECT_EQ(entry->error(), st.message());
    auto found = r.find("broken");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.status().code(), StatusCode::unavailable);
    EXPECT_NE(found.status().message().find("bad magic"), std::string::npos);
    EXPECT_TRUE(r.find("fine").ok());
    EXPECT_FALSE(r.all_ready());
}

TEST(Registry, FailedStartIsReportedToo) {
    Script s;
    s.bytes_per_block = 64;
    s.start_error = Status::invalid_argument("engine: KV memory 0 bytes is less than one block");
    Registry r;
    ASSERT_TRUE(r.add("m", scripted("m.gguf", &s)).ok());
    const Status st = r.load_all();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("m.gguf"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("less than one block"), std::string::npos) << st.message();
    EXPECT_EQ(r.entries()[0]->state(), ModelState::failed);
}

TEST(Registry, KvBudgetIsSplitIntoEqualTokenSlotsAmongEntriesThatNeedOne) {
    Script small, big, remote;
    small.bytes_per_block = 100;
    big.bytes_per_block = 300;
    remote.bytes_per_block = 0;  // e.g. an upstream model: no local KV
    registry::LoadSettings settings;
    settings.kv_memory_bytes = 1000;
    Registry r(settings);
    ASSERT_TRUE(r.add("small", scripted("s", &small)).ok());
    ASSERT_TRUE(r.add("remote", scripted("r", &remote)).ok());
    ASSERT_TRUE(r.add("big", scripted("b", &big)).ok());
    ASSERT_TRUE(r.load_all().ok());
    // 1000 / (100 + 300) = 2 blocks each.
    EXPECT_EQ(small.given_kv, 200u);
    EXPECT_EQ(big.given_kv, 600u);
    EXPECT_EQ(remote.given_kv, 0u);
}

TEST(Registry, StopAllStopsEveryBackend) {
    Script a, b;
    {
        Registry r;
        ASSERT_TRUE(r.add("a", scripted("a", &a)).ok());
        ASSERT_TRUE(r.add("b", scripted("b", &b)).ok());
        ASSERT_TRUE(r.load_all().ok());
        r.stop_all();
        EXPECT_GE(a.n_stops, 1);
        EXPECT_GE(b.n_stops, 1);
    }
}

TEST(Registry, ReadyEntriesAreServedAtOnce) {
    Registry r;
    registry::Serving s;
    s.engine = std::make_shared<IdleEngine>(77);
    s.codec = std::make_shared<NullCodec>();
    ASSERT_TRUE(r.add_ready("fake", s, registry::Role::daily, 1700000000).ok());
    auto found = r.find("");
    ASSERT_TRUE(found.ok());
    EXPECT_EQ((*found)->context_length(), 77);  // from the engine when not given
    EXPECT_EQ((*found)->created_unix(), 1700000000);
    EXPECT_EQ((*found)->role(), registry::Role::daily);
    registry::Serving no_engine;
    EXPECT_EQ(r.add_ready("broken", no_engine).code(), StatusCode::invalid_argument);
}

// A model served elsewhere: ready at once, found by name, no engine, and load_all leaves it alone.
class FixedRemote final : public registry::RemoteModel {
public:
    std::string source() const override { return "http://gpu1:8000/v1"; }
    bool healthy() const override { return true; }
};

TEST(Registry, RemoteEntriesAreReadyAtOnceAndHoldNoEngine) {
    Registry r;
    EXPECT_FALSE(r.has_remote());
    registry::Serving s;
    s.engine = std::make_shared<IdleEngine>(77);
    s.codec = std::make_shared<NullCodec>();
    ASSERT_TRUE(r.add_ready("local", s).ok());
    auto remote = std::make_shared<FixedRemote>();
    ASSERT_TRUE(r.add_remote("big", remote, registry::Role::expert).ok());
    EXPECT_EQ(r.add_remote("big", remote).code(), StatusCode::invalid_argument) << "name taken";
    EXPECT_EQ(r.add_remote("none", nullptr).code(), StatusCode::invalid_argument);
    EXPECT_TRUE(r.has_remote());
    EXPECT_TRUE(r.load_all().ok());
    auto found = r.find("big");
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE((*found)->ready());
    EXPECT_TRUE((*found)->is_remote());
    EXPECT_EQ((*found)->remote(), remote);
    EXPECT_EQ((*found)->source(), "http://gpu1:8000/v1");
    EXPECT_EQ((*found)->role(), registry::Role::expert);
    EXPECT_EQ((*found)->serving()->engine, nullptr);
    EXPECT_FALSE((*r.find("local"))->is_remote());
    EXPECT_EQ(r.ready_entries().size(), 2u);
}

TEST(Registry, RolesParseAndPrint) {
    for (auto role : {registry::Role::none, registry::Role::expert, registry::Role::daily}) {
        auto parsed = registry::parse_role(registry::role_name(role));
        ASSERT_TRUE(parsed.ok());
        EXPECT_EQ(*parsed, role);
    }
    EXPECT_FALSE(registry::parse_role("boss").ok());
}

TEST(Registry, MissingGgufFileFailsWithItsPath) {
    Registry r;
    const std::string path = temp_dir() + "/no-such-model.gguf";
    ASSERT_TRUE(r.add_gguf("ghost", path).ok());
    const Status st = r.load_all();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("ghost"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("cannot open"), std::string::npos) << st.message();
}

TEST(Registry, CorruptGgufFileFailsWithItsPathAndReason) {
    const std::string path = temp_dir() + "/corrupt.gguf";
    std::ofstream(path, std::ios::binary) << "NOTAGGUF-FILE-AT-ALL-JUST-SOME-BYTES";
    Registry r;
    ASSERT_TRUE(r.add_gguf("corrupt", path).ok());
    const Status st = r.load_all();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("magic"), std::string::npos) << st.message();
    EXPECT_EQ(r.entries()[0]->state(), ModelState::failed);
}

TEST(Registry, RealGgufEntryServesItsEngineAndCodec) {
    DUET_REQUIRE_FIXTURES();
    registry::LoadSettings settings;
    settings.kv_memory_bytes = size_t{4} << 20;
    settings.engine.n_threads = 1;
    Registry r(settings);
    ASSERT_TRUE(r.add_gguf("stories", fixture("stories260K/stories260K.gguf")).ok());
    const Status st = r.load_all();
    ASSERT_TRUE(st.ok()) << st.message();
    auto found = r.find("stories");
    ASSERT_TRUE(found.ok());
    const registry::ModelEntry& entry = **found;
    EXPECT_GT(entry.context_length(), 0);
    EXPECT_EQ(entry.serving()->engine->context_length(), entry.context_length());
    EXPECT_FALSE(entry.serving()->codec->stop_token_ids().empty());  // the one source of stop ids
    EXPECT_FALSE(entry.serving()->codec->encode("Once upon a time", true, false).empty());
    r.stop_all();
}

}  // namespace
}  // namespace duet::test
