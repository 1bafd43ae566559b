// serve_process.h: `duet serve` as a subprocess on one model (stories260K unless told otherwise), on a free port,
// with its /metrics readable per model and its store in a fresh temporary --data-dir (removed afterwards; an
// explicit --data-dir in `extra` wins); for the end-to-end server tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.h"
#include "support/fixtures.h"

namespace duet::test {

class ServeProcess {
public:
    // Serves `model_name`=`model_path` (empty path: the stories260K fixture) with `extra` arguments appended; an
    // empty `model_name` gives no -m at all (the models come from `extra`, e.g. --config FILE).
    explicit ServeProcess(std::vector<std::string> extra, std::string model_name = "stories",
                          std::string model_path = "")
        : model_name_(std::move(model_name)) {
        if (model_path.empty()) model_path = fixture("stories260K/stories260K.gguf");
        std::string tmpl = "/tmp/duet-serve-data-XXXXXX";
        if (::mkdtemp(tmpl.data())) data_dir_ = tmpl;
        std::vector<std::string> args = {duet_binary(), "serve",  "-m", model_name_ + "=" + model_path,
                                         "--port",      "0",      "-t", "1",
                                         "--data-dir",  data_dir_};
        if (model_name_.empty()) args.erase(args.begin() + 2, args.begin() + 4);
        for (auto& a : extra) args.push_back(a);
        int out[2];
        if (::pipe(out) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        FILE* f = ::fdopen(out[0], "r");
        char line[512];
        if (f && std::fgets(line, sizeof(line), f)) {
            std::cmatch m;
            if (std::regex_search(line, m, std::regex(":([0-9]+)"))) port_ = std::atoi(m[1].str().c_str());
        }
        if (f) std::fclose(f);
        for (int i = 0; i < 400 && port_ > 0; ++i) {
            httplib::Client c("127.0.0.1", port_);
            auto r = c.Get("/health");
            if (r && r->status == 200) {
                ready_ = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
    }
    ~ServeProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        std::error_code ec;
        if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_, ec);
    }
    bool ready() const { return ready_; }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::unique_ptr<httplib::Client> client() const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
        c->set_read_timeout(60, 0);
        return c;
    }
    // The value of a metric line "name{model_name="<model>"<more_labels>} value", or -1 when absent.
    double metric(const std::string& name, const std::string& more_labels = "") const {
        auto r = client()->Get("/metrics");
        if (!r) return -1;
        const std::string key = name + "{model_name=\"" + model_name_ + "\"" + more_labels + "} ";
        size_t at = r->body.find(key);
        return at == std::string::npos ? -1 : std::atof(r->body.c_str() + at + key.size());
    }

private:
    std::string model_name_;
    std::string data_dir_;
    pid_t pid_ = -1;
    int port_ = -1;
    bool ready_ = false;
};

#define REQUIRE_SERVE(proc)                                                                    \
    DUET_REQUIRE_FIXTURES();                                                                   \
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary"; \
    ASSERT_TRUE((proc).ready()) << "duet serve did not become ready"

}  // namespace duet::test
