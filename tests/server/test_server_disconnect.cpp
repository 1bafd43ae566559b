// test_server_disconnect.cpp: a client that closes its connection while waiting for a NON-streaming answer has its
// request aborted in the engine (chat over a fake engine in process; completions through `duet serve`'s /metrics on
// a generated demo model), and the peer-closed check behind it on plain loopback sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "serve_process.h"
#include "server/http/socket_io.h"

namespace duet::test {
namespace {

// A loopback listener, one client connected to it, and the accepted end.
struct LoopbackPair {
    int listener = -1, client = -1, accepted = -1;
    int server_port = -1, client_port = -1;

    LoopbackPair() {
        listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listener, 4) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            return;
        server_port = ntohs(addr.sin_port);
        client = ::socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
        accepted = ::accept(listener, nullptr, nullptr);
        sockaddr_in mine{};
        len = sizeof(mine);
        if (::getsockname(client, reinterpret_cast<sockaddr*>(&mine), &len) == 0) client_port = ntohs(mine.sin_port);
    }
    ~LoopbackPair() {
        for (int fd : {listener, client, accepted})
            if (fd >= 0) ::close(fd);
    }
};

// The front door owns the accepted socket while a handler runs, so "is the client still there?" is a peek at it.
TEST(PeerClosed, AliveUntilThePeerCloses) {
    LoopbackPair pair;
    ASSERT_GE(pair.accepted, 0);
    EXPECT_FALSE(server::http::peer_closed(pair.accepted));
    ASSERT_EQ(::send(pair.client, "x", 1, MSG_NOSIGNAL), 1);  // unread data: still alive (a pipelined request)
    EXPECT_FALSE(server::http::peer_closed(pair.accepted));
    char byte;
    ASSERT_EQ(::recv(pair.accepted, &byte, 1, 0), 1);
    ::close(pair.client);
    pair.client = -1;
    EXPECT_TRUE(server::http::peer_closed(pair.accepted));
}

TEST(PeerClosed, AResetPeerIsGone) {
    LoopbackPair pair;
    ASSERT_GE(pair.accepted, 0);
    linger hard{1, 0};  // close() sends RST
    ASSERT_EQ(::setsockopt(pair.client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)), 0);
    ::close(pair.client);
    pair.client = -1;
    EXPECT_TRUE(server::http::peer_closed(pair.accepted));
}

TEST(ServerDisconnect, NonStreamingChatOverAFakeEngineIsAbortedWhenTheClientCloses) {
    FakeEngine::Options slow;
    slow.step_seconds = 0.005;  // 400 tokens: about 2 s of steps
    ServerHarness h("", slow);
    json body = {{"model", "alpha"},
                 {"messages", {{{"role", "user"}, {"content", "hang up on me"}}}},
                 {"max_tokens", 400},
                 {"stream", false}};
    {
        RawConnection client(h.port(), http_post_bytes("/v1/chat/completions", body.dump()));
        for (int i = 0; i < 400 && h.alpha->stats().generation_tokens_total == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < 400 && !(h.alpha->idle() && h.alpha->n_aborted_requests() == 1); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(h.alpha->n_aborted_requests(), 1);
    EXPECT_TRUE(h.alpha->idle());
    EXPECT_LT(h.alpha->stats().generation_tokens_total, 200u);
    // A client that stays gets its whole answer over the same kind of connection.
    body["max_tokens"] = 8;
    auto r = h.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["usage"]["completion_tokens"], 8);
}

// A random-weight demo model written by `duet make-model` (4 layers; served with a 16K context so that one
// request keeps the engine busy for far longer than the test waits).
std::string demo_model() {
    const std::string path = temp_dir() + "/disconnect-demo.gguf";
    const std::string cmd = "'" + duet_binary() + "' make-model --preset demo --type f32 -o '" + path + "' > /dev/null";
    return std::system(cmd.c_str()) == 0 ? path : std::string();
}

TEST(ServerDisconnect, NonStreamingRequestIsAbortedWhenTheClientCloses) {
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary";
    const std::string model = demo_model();
    ASSERT_FALSE(model.empty()) << "duet make-model failed";
    struct RemoveOnExit {
        std::string path;
        ~RemoveOnExit() { std::remove(path.c_str()); }
    } remove_model{model};
    ServeProcess proc({"--kv-memory", "64M", "--ctx", "16384"}, "demo", model);
    ASSERT_TRUE(proc.ready()) << "duet serve did not become ready";
    constexpr int kMaxTokens = 16000;  // tens of seconds of work; the client leaves after ~0.1 s
    const json body = {{"model", "demo"},          {"prompt", "Once upon a time"},
                       {"max_tokens", kMaxTokens}, {"ignore_eos", true},
                       {"temperature", 0},         {"stream", false}};
    {
        RawConnection client(proc.port(), http_post_bytes("/v1/completions", body.dump()));
        // Wait until the engine runs it (the answer cannot come before all kMaxTokens are generated).
        for (int i = 0; i < 400 && proc.metric("vllm:num_requests_running") != 1; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ASSERT_EQ(proc.metric("vllm:num_requests_running"), 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }  // the client closes its socket without reading anything
    double running = -1, kv = -1, aborted = -1;
    for (int i = 0; i < 400; ++i) {  // a deadline of a few seconds, not a timing assertion
        running = proc.metric("vllm:num_requests_running");
        kv = proc.metric("vllm:kv_cache_usage_perc");
        aborted = proc.metric("vllm:request_success_total", ",finished_reason=\"abort\"");
        if (running == 0 && kv == 0 && aborted == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(running, 0);
    EXPECT_EQ(kv, 0) << "KV blocks still held after the client left";
    EXPECT_EQ(aborted, 1);
    const double generated = proc.metric("vllm:generation_tokens_total");
    EXPECT_GT(generated, 0);
    EXPECT_LT(generated, kMaxTokens / 2) << "the request ran on after its client left";
    // The server still answers (the aborted request left nothing behind).
    json small = body;
    small["max_tokens"] = 4;
    auto r = proc.client()->Post("/v1/completions", small.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace duet::test
