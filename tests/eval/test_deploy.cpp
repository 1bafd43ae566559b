// test_deploy.cpp: the deployment table's measurements against the scripted server: /health, the page, TTFT and
// the streaming rhythm (3 code points per chunk), RSS of this process, GPU memory read from nvidia-smi's CSV over a process tree, an unreachable target, the
// printed table.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "eval/deploy.h"
#include "eval/scripted_server.h"

namespace duet::eval {
namespace {

// The first target's cell of a table row (labels are 28 wide, cells 1 + 22).
std::string first_column(const std::string& table, const std::string& label) {
    size_t at = 0;
    while ((at = table.find(label, at)) != std::string::npos && at > 0 && table[at - 1] != '\n') ++at;
    if (at == std::string::npos) return "no row " + label;
    std::string cell = table.substr(at + 28, 23);
    cell.erase(0, cell.find_first_not_of(' '));
    return cell;
}

TEST(EvalDeploy, MeasuresHealthPageAndStreamingRhythm) {
    test::ScriptedServer s;
    s.script = {{"keyboard", "abcdefghi"}};  // 3 chunks of 3 characters
    s.page = "<html>chat</html>";
    s.start();
    DeployOptions o;
    o.requests = 2;
    o.pid = int(::getpid());
    o.policy.read_timeout_seconds = 10;
    const DeployFigures f = measure_deployment({"x", s.url(), "m"}, o);
    EXPECT_TRUE(f.health_ok);
    EXPECT_EQ(f.page_status, 200);
    EXPECT_EQ(f.page_bytes, 17u);
    EXPECT_EQ(f.requests, 2);
    EXPECT_EQ(f.failed, 0);
    EXPECT_GE(f.ttft_p50_ms, 0);
    EXPECT_GE(f.interval_p50_ms, 0);
    EXPECT_EQ(f.chars_per_chunk, 3.0);
    EXPECT_GT(f.rss_gb, 0);
    EXPECT_EQ(s.requests().at("keyboard"), 2);

    const DeployFigures down = measure_deployment({"down", "http://127.0.0.1:1/v1", ""}, {});
    EXPECT_FALSE(down.health_ok);
    EXPECT_EQ(down.failed, down.requests);
    EXPECT_NE(down.last_error.find("transport"), std::string::npos) << down.last_error;

    const std::string table = render_deploy_table({f, down});
    EXPECT_NE(table.find("first token p50 (ms)"), std::string::npos);
    EXPECT_NE(table.find("720 / 380"), std::string::npos);
    EXPECT_NE(table.find("unreachable"), std::string::npos);
    EXPECT_NE(table.find(" (17 B)"), std::string::npos) << table;
    EXPECT_NE(table.find("3.0"), std::string::npos);
}

TEST(EvalDeploy, NewSessionIsTimedWhenThePageApiExists) {
    test::ScriptedServer s;
    s.script = {{"keyboard", "abcdefghi"}};
    s.conversations_api = true;
    s.start();
    DeployOptions o;
    o.requests = 1;
    o.policy.read_timeout_seconds = 10;
    const DeployFigures f = measure_deployment({"x", s.url(), "m"}, o);
    EXPECT_GE(f.new_session_create_ms, 0);
    EXPECT_GE(f.new_session_ttft_ms, 0);
    EXPECT_DOUBLE_EQ(f.new_session_ms, f.new_session_create_ms + f.new_session_ttft_ms);
    EXPECT_EQ(s.requests().at("create conversation"), 1);
    EXPECT_EQ(s.requests().at("delete conversation"), 1);  // cleaned up
    EXPECT_EQ(s.requests().at("keyboard"), 2);             // the new chat's first message + 1 measured request
    EXPECT_EQ(f.load_to_ready_s, -1);                      // nothing launched
    const std::string table = render_deploy_table({f});
    EXPECT_NE(table.find("new session (s)"), std::string::npos);
    EXPECT_NE(table.find("2.1 / 0.8"), std::string::npos);
    EXPECT_NE(first_column(table, "new session (s)"), "-") << table;
    EXPECT_NE(first_column(table, "  create conversation (ms)"), "-") << table;

    // Without the page API the figure is absent, not an error.
    test::ScriptedServer plain;
    plain.start();
    const DeployFigures g = measure_deployment({"y", plain.url(), ""}, o);
    EXPECT_EQ(g.new_session_ms, -1);
    EXPECT_EQ(plain.requests().count("create conversation"), 0u);
}

TEST(EvalDeploy, LaunchWaitsForHealthMeasuresAndStopsTheServer) {
    test::ScriptedServer s;
    s.script = {{"keyboard", "abc"}};
    s.health_unready_first = 3;  // "loading models" three times
    s.start();
    const std::string origin = s.url().substr(0, s.url().size() - 3);  // without /v1
    DeployOptions o;
    o.requests = 1;
    o.policy.read_timeout_seconds = 10;
    o.launch_command = "sleep 300";  // stands in for the server process (its RSS, its stop)
    const DeployFigures f = measure_deployment({"x", s.url(), ""}, o);
    EXPECT_EQ(f.last_error, "");
    EXPECT_GE(f.load_to_ready_s, 0);
    EXPECT_EQ(f.health_polls, 4);  // 3 x 503, then 200
    EXPECT_GT(f.rss_gb, 0);        // of the launched process
    const std::string table = render_deploy_table({f});
    EXPECT_NE(first_column(table, "load to ready (s)"), "-") << table;
    EXPECT_NE(first_column(table, "memory RSS (GB)"), "-") << table;

    // The launched process is stopped and reaped.
    Result<LaunchedServer> launched = launch_until_ready("sleep 300", origin, 30, "again");
    ASSERT_TRUE(launched.ok()) << launched.status().message();
    ASSERT_GT(launched->pid, 0);
    EXPECT_EQ(::kill(launched->pid, 0), 0);
    EXPECT_TRUE(std::ifstream(launched->log_path).good());
    stop_launched(*launched);
    EXPECT_EQ(::kill(launched->pid, 0), -1);
    EXPECT_FALSE(std::ifstream(launched->log_path).good());  // removed: the launch went well
}

TEST(EvalDeploy, LaunchReportsAServerThatExitsOrNeverGetsReady) {
    test::ScriptedServer s;
    s.health_unready_first = 1 << 30;
    s.start();
    const std::string origin = s.url().substr(0, s.url().size() - 3);
    Result<LaunchedServer> exited = launch_until_ready("sh -c 'echo no model here >&2; exit 3'", origin, 30, "bad");
    ASSERT_FALSE(exited.ok());
    EXPECT_NE(exited.status().message().find("exited with status 3"), std::string::npos) << exited.status().message();
    const size_t log_at = exited.status().message().find("log: ");
    ASSERT_NE(log_at, std::string::npos);
    std::string log_path = exited.status().message().substr(log_at + 5);
    log_path.pop_back();  // ")"
    std::ifstream log(log_path);
    std::string line;
    std::getline(log, line);
    EXPECT_EQ(line, "no model here");
    std::remove(log_path.c_str());

    Result<LaunchedServer> stuck = launch_until_ready("sleep 300", origin, 0.3, "stuck");
    ASSERT_FALSE(stuck.ok());
    EXPECT_NE(stuck.status().message().find("/health not ok"), std::string::npos) << stuck.status().message();
    const std::string stuck_log = "/tmp/duet-deploy-" + std::to_string(::getpid()) + "-stuck.log";
    EXPECT_TRUE(std::ifstream(stuck_log).good());  // kept: the error names it
    std::remove(stuck_log.c_str());

    DeployOptions o;
    o.launch_command = "sh -c 'exit 4'";
    const DeployFigures f = measure_deployment({"x", s.url(), ""}, o);
    EXPECT_NE(f.last_error.find("status 4"), std::string::npos) << f.last_error;
    EXPECT_EQ(f.requests, 0);
    std::remove(("/tmp/duet-deploy-" + std::to_string(::getpid()) + "-x.log").c_str());
}

TEST(EvalDeploy, RssOfAMissingProcessIsUnknown) {
    EXPECT_GT(process_rss_bytes(int(::getpid())), 0);
    EXPECT_EQ(process_rss_bytes(999999999), -1);
}

}  // namespace
}  // namespace duet::eval

namespace duet::eval {
namespace {

TEST(EvalDeploy, GpuMemorySumsTheProcessTreeFromNvidiaSmi) {
    // nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits: "PID, MiB" per process.
    const std::string csv = "4242, 1024\n4243, 512\n77, 9999\nnot a line\n";
    EXPECT_EQ(gpu_memory_from_nvidia_smi(csv, {4242, 4243}), 1536LL * 1024 * 1024);
    EXPECT_EQ(gpu_memory_from_nvidia_smi(csv, {4242}), 1024LL * 1024 * 1024);
    EXPECT_EQ(gpu_memory_from_nvidia_smi(csv, {5}), -1);  // no GPU memory: unknown, not 0
    EXPECT_EQ(gpu_memory_from_nvidia_smi("", {4242}), -1);
    // A vLLM-style server holds the GPU in child processes: the tree of a launched pid includes them.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    const std::vector<int> tree = process_tree(int(::getpid()));
    EXPECT_EQ(tree.front(), int(::getpid()));
    EXPECT_NE(std::find(tree.begin(), tree.end(), int(child)), tree.end());
    EXPECT_EQ(process_tree(999999999), std::vector<int>{999999999});
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace duet::eval
