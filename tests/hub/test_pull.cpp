// test_pull.cpp: pull against a fake hub on loopback: download, verify, resume after a dropped connection,
// redirects (to another host too), tokens, offline mode, the manifest and resolve_local.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "hub/fake_hub.h"
#include "hub/pull.h"
#include "support/fixtures.h"

namespace duet::hub {
namespace {

namespace fs = std::filesystem;
using test::FakeHub;

constexpr const char* kRepo = "acme/Tiny-GGUF";
constexpr const char* kFile = "tiny-Q4_K_M.gguf";

class PullTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        cache_dir_ = test::temp_dir() + "/" + info->name();
        fs::remove_all(cache_dir_);
        content_ = test::make_bytes(300 * 1024 + 17, 7);
        hub_.add_file(kRepo, kFile, content_);
        hub_.add_file(kRepo, "tiny-Q8_0.gguf", test::make_bytes(1000, 8));
        hub_.add_file(kRepo, "README.md", "# tiny\n");
    }
    HubClient client(std::string token = {}, bool offline = false) const {
        HubOptions o;
        o.endpoint = hub_.base_url();
        o.token = std::move(token);
        o.offline = offline;
        o.stall_timeout_seconds = 10;
        return HubClient(o);
    }
    ModelCache cache() const { return ModelCache(cache_dir_); }

    FakeHub hub_;
    std::string cache_dir_, content_;
};

TEST_F(PullTest, DownloadsVerifiesAndRecordsTheManifest) {
    auto r = pull(client(), cache(), kRepo, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->from_cache);
    EXPECT_EQ(r->stats.bytes_fetched, content_.size());
    EXPECT_EQ(test::read_file(r->entry.path), content_);
    EXPECT_EQ(r->entry.path, fs::absolute(cache_dir_ + "/acme/Tiny-GGUF/tiny-Q4_K_M.gguf").lexically_normal());
    EXPECT_FALSE(fs::exists(r->entry.path + ".part"));
    auto entries = cache().entries();
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), 1u);
    const ManifestEntry& e = entries->front();
    EXPECT_EQ(e.repo, kRepo);
    EXPECT_EQ(e.file, kFile);
    EXPECT_EQ(e.quant, "Q4_K_M");
    EXPECT_EQ(e.sha256, sha256_hex(content_));
    EXPECT_EQ(e.size, content_.size());
    EXPECT_EQ(e.pulled_at.size(), 20u);  // 2026-12-02T21:30:00Z
    EXPECT_EQ(hub_.range_headers(), std::vector<std::string>{""});

    hub_.reset_counters();  // a second pull finds it in the cache and fetches nothing
    auto again = pull(client(), cache(), std::string(kRepo) + ":q4_k_m", nullptr);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_TRUE(again->from_cache);
    EXPECT_EQ(hub_.blob_bytes_sent(), 0u);
}

TEST_F(PullTest, WrongChecksumFailsAndKeepsNothing) {
    hub_.add_file(kRepo, kFile, content_, std::string(64, '0'));
    auto r = pull(client(), cache(), kRepo, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("sha256 mismatch"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(sha256_hex(content_)), std::string::npos);
    EXPECT_NE(r.status().message().find("acme/Tiny-GGUF/tiny-Q4_K_M.gguf"), std::string::npos);
    EXPECT_FALSE(fs::exists(cache().path_for(kRepo, kFile)));
    EXPECT_FALSE(fs::exists(cache().path_for(kRepo, kFile) + ".part"));
    EXPECT_TRUE(cache().entries()->empty());
}

TEST_F(PullTest, DroppedConnectionThenResumeFetchesOnlyTheRest) {
    const uint64_t drop_at = 100 * 1024 + 3;
    hub_.drop_next_download_after(static_cast<int64_t>(drop_at));
    auto first = pull(client(), cache(), kRepo, nullptr);
    ASSERT_FALSE(first.ok());
    EXPECT_NE(first.status().message().find("run the same command again to resume"), std::string::npos)
        << first.status().message();
    const std::string part = cache().path_for(kRepo, kFile) + ".part";
    ASSERT_TRUE(fs::exists(part));
    EXPECT_EQ(fs::file_size(part), drop_at);
    EXPECT_TRUE(cache().entries()->empty());

    hub_.reset_counters();
    auto second = pull(client(), cache(), kRepo, nullptr);
    ASSERT_TRUE(second.ok()) << second.status().message();
    EXPECT_EQ(second->stats.resumed_from, drop_at);
    EXPECT_EQ(second->stats.bytes_fetched, content_.size() - drop_at);
    EXPECT_EQ(hub_.blob_bytes_sent(), content_.size() - drop_at);
    EXPECT_EQ(hub_.range_headers().back(), "bytes=" + std::to_string(drop_at) + "-");
    EXPECT_EQ(second->entry.sha256, sha256_hex(content_));
    EXPECT_EQ(test::read_file(second->entry.path), content_);
    EXPECT_FALSE(fs::exists(part));
}

TEST_F(PullTest, ServerIgnoringRangeRestartsFromByteZero) {
    hub_.drop_next_download_after(5000);
    ASSERT_FALSE(pull(client(), cache(), kRepo, nullptr).ok());
    hub_.ignore_range(true);
    auto r = pull(client(), cache(), kRepo, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(hub_.range_headers().back(), "bytes=5000-");  // asked for the rest, got everything
    EXPECT_EQ(r->stats.bytes_fetched, content_.size());
    EXPECT_EQ(test::read_file(r->entry.path), content_);
}

TEST_F(PullTest, SecondPullOfTheSameFileWhileOneRunsIsRefused) {
    const std::string part = cache().path_for(kRepo, kFile) + ".part";
    fs::create_directories(fs::path(part).parent_path());
    const int fd = ::open(part.c_str(), O_RDWR | O_CREAT, 0644);  // stands in for a pull in progress
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    auto r = pull(client(), cache(), kRepo, nullptr);
    ::close(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::unavailable);
    EXPECT_NE(r.status().message().find("another duet pull is downloading it"), std::string::npos)
        << r.status().message();
    EXPECT_TRUE(pull(client(), cache(), kRepo, nullptr).ok());  // the lock is gone with the other process
}

TEST_F(PullTest, CorruptPartialFileIsCaughtByTheChecksum) {
    const std::string part = cache().path_for(kRepo, kFile) + ".part";
    fs::create_directories(fs::path(part).parent_path());
    std::ofstream(part, std::ios::binary) << std::string(4096, 'x');  // not the file's first bytes
    auto r = pull(client(), cache(), kRepo, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("sha256 mismatch"), std::string::npos) << r.status().message();
    EXPECT_FALSE(fs::exists(part));  // deleted, so the next pull starts clean
    auto retry = pull(client(), cache(), kRepo, nullptr);
    ASSERT_TRUE(retry.ok()) << retry.status().message();
    EXPECT_EQ(retry->stats.bytes_fetched, content_.size());
}

TEST_F(PullTest, FollowsARedirectToAnotherHostWithoutTheToken) {
    FakeHub cdn;
    cdn.add_file(kRepo, kFile, content_);
    hub_.redirect_blobs_to(cdn.base_url());
    hub_.require_token("secret");
    auto r = pull(client("secret"), cache(), kRepo, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(test::read_file(r->entry.path), content_);
    EXPECT_EQ(hub_.blob_bytes_sent(), 0u);
    EXPECT_EQ(cdn.blob_bytes_sent(), content_.size());
    EXPECT_EQ(cdn.blob_authorization_headers(), std::vector<std::string>{""});  // the token stays with the hub
}

TEST_F(PullTest, GatedRepoNeedsTheToken) {
    hub_.require_token("hf_test_token");
    auto anonymous = pull(client(), cache(), kRepo, nullptr);
    ASSERT_FALSE(anonymous.ok());
    const std::string m = anonymous.status().message();  // a copy: status() may be a temporary
    EXPECT_NE(m.find("HTTP 401"), std::string::npos) << m;
    EXPECT_NE(m.find("HF_TOKEN"), std::string::npos) << m;
    EXPECT_NE(m.find("acme/Tiny-GGUF"), std::string::npos) << m;
    EXPECT_FALSE(pull(client("wrong"), cache(), kRepo, nullptr).ok());
    auto with_token = pull(client("hf_test_token"), cache(), kRepo, nullptr);
    ASSERT_TRUE(with_token.ok()) << with_token.status().message();
    EXPECT_EQ(test::read_file(with_token->entry.path), content_);
}

TEST_F(PullTest, UnknownRepoIs404WithContext) {
    auto r = pull(client(), cache(), "acme/nope", nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("HTTP 404"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("acme/nope"), std::string::npos);
}

TEST_F(PullTest, AmbiguousQuantListsChoicesAndDownloadsNothing) {
    hub_.add_file(kRepo, "other/tiny-Q4_K_M.gguf", "x");
    auto r = pull(client(), cache(), kRepo, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("other/tiny-Q4_K_M.gguf"), std::string::npos) << r.status().message();
    EXPECT_EQ(hub_.blob_bytes_sent(), 0u);
    auto exact = pull(client(), cache(), std::string(kRepo) + "/other/tiny-Q4_K_M.gguf", nullptr);
    ASSERT_TRUE(exact.ok()) << exact.status().message();
    EXPECT_EQ(test::read_file(exact->entry.path), "x");
}

TEST_F(PullTest, OfflineUsesOnlyTheCache) {
    auto offline_miss = pull(client({}, true), cache(), kRepo, nullptr);
    ASSERT_FALSE(offline_miss.ok());
    EXPECT_NE(offline_miss.status().message().find("offline"), std::string::npos);
    EXPECT_NE(offline_miss.status().message().find("duet pull acme/Tiny-GGUF:Q4_K_M"), std::string::npos)
        << offline_miss.status().message();
    ASSERT_TRUE(pull(client(), cache(), kRepo, nullptr).ok());
    const std::string endpoint = hub_.base_url();
    hub_.stop();  // no hub any more
    HubOptions o;
    o.endpoint = endpoint;
    o.offline = true;
    auto hit = pull(HubClient(o), cache(), kRepo, nullptr);
    ASSERT_TRUE(hit.ok()) << hit.status().message();
    EXPECT_TRUE(hit->from_cache);
    EXPECT_EQ(test::read_file(hit->entry.path), content_);
    o.offline = false;
    EXPECT_FALSE(pull(HubClient(o), cache(), kRepo, nullptr).ok());  // online with no hub: a connect error
}

TEST_F(PullTest, ResolveLocalNamesTheFileWithoutNetwork) {
    auto missing = resolve_local(cache(), "acme/Tiny-GGUF:Q4_K_M");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::not_found);
    EXPECT_NE(missing.status().message().find("run `duet pull acme/Tiny-GGUF:Q4_K_M` first"), std::string::npos)
        << missing.status().message();
    ASSERT_TRUE(pull(client(), cache(), kRepo, nullptr).ok());
    ASSERT_TRUE(pull(client(), cache(), std::string(kRepo) + ":Q8_0", nullptr).ok());
    hub_.stop();
    const std::string q4 = cache().path_for(kRepo, kFile);
    EXPECT_EQ(resolve_local(cache(), "acme/Tiny-GGUF:q4_k_m").value(), fs::absolute(q4).lexically_normal());
    EXPECT_EQ(resolve_local(cache(), "acme/tiny-gguf").value(), fs::absolute(q4).lexically_normal());  // Q4_K_M
    EXPECT_EQ(fs::path(resolve_local(cache(), "acme/Tiny-GGUF:Q8_0").value()).filename(), "tiny-Q8_0.gguf");
    EXPECT_EQ(fs::path(resolve_local(cache(), "acme/Tiny-GGUF/tiny-Q8_0.gguf").value()).filename(), "tiny-Q8_0.gguf");
    fs::remove(q4);  // deleted behind the manifest's back
    auto gone = resolve_local(cache(), "acme/Tiny-GGUF:Q4_K_M");
    ASSERT_FALSE(gone.ok());
    EXPECT_NE(gone.status().message().find("gone"), std::string::npos) << gone.status().message();
}

TEST_F(PullTest, CorruptManifestIsAnErrorNamingTheFile) {
    fs::create_directories(cache_dir_);
    std::ofstream(cache_dir_ + "/manifest.json") << "{\"models\": [ {\"repo\": 1} ]";
    auto r = cache().entries();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(cache_dir_ + "/manifest.json"), std::string::npos) << r.status().message();
    EXPECT_FALSE(resolve_local(cache(), kRepo).ok());
}

}  // namespace
}  // namespace duet::hub
