// sandbox.cpp: fork, limits, namespaces, Landlock, exec; the parent collects output and classifies the end.
#include "eval/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace duet::eval {

namespace {

// Landlock's kernel ABI, spelled out (Debian 12's headers predate the network and truncate rights).
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
constexpr uint32_t kLandlockCreateRulesetVersion = 1u << 0;
constexpr int kLandlockRulePathBeneath = 1;
constexpr uint64_t kFsWriteFile = 1ull << 1, kFsRemoveDir = 1ull << 4, kFsRemoveFile = 1ull << 5,
                   kFsMakeChar = 1ull << 6, kFsMakeDir = 1ull << 7, kFsMakeReg = 1ull << 8, kFsMakeSock = 1ull << 9,
                   kFsMakeFifo = 1ull << 10, kFsMakeBlock = 1ull << 11, kFsMakeSym = 1ull << 12, kFsRefer = 1ull << 13,
                   kFsTruncate = 1ull << 14;
constexpr uint64_t kNetBindTcp = 1ull << 0, kNetConnectTcp = 1ull << 1;

struct LandlockRulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;  // ABI >= 4
};

struct __attribute__((packed)) LandlockPathBeneathAttr {
    uint64_t allowed_access;
    int32_t parent_fd;
};

constexpr uid_t kNobody = 65534;

// What the child did, one flag per step, sent to the parent through a close-on-exec pipe.
enum ChildFlag : uint32_t {
    kNetNamespace = 1u << 0,
    kNetUserNamespace = 1u << 1,
    kLandlockFs = 1u << 2,
    kLandlockNet = 1u << 3,
    kDroppedToNobody = 1u << 4,
    kNprocSet = 1u << 5,
    kExecFailed = 1u << 6,
    kSetupFailed = 1u << 7,
};

int landlock_abi() {
    const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kLandlockCreateRulesetVersion);
    return abi < 0 ? 0 : static_cast<int>(abi);
}

// Child side, async-signal-safe: restricts writes to `dir` (and /dev/null) and, on ABI >= 4, all TCP.
uint32_t apply_landlock(int abi, int dir_fd, int devnull_fd) {
    if (abi < 1) return 0;
    uint64_t fs = kFsWriteFile | kFsRemoveDir | kFsRemoveFile | kFsMakeChar | kFsMakeDir | kFsMakeReg | kFsMakeSock |
                  kFsMakeFifo | kFsMakeBlock | kFsMakeSym;
    if (abi >= 2) fs |= kFsRefer;
    if (abi >= 3) fs |= kFsTruncate;
    LandlockRulesetAttr attr{fs, abi >= 4 ? (kNetBindTcp | kNetConnectTcp) : 0};
    const size_t attr_size = abi >= 4 ? sizeof(LandlockRulesetAttr) : sizeof(uint64_t);
    const int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0));
    if (ruleset < 0) return 0;
    LandlockPathBeneathAttr beneath{fs, dir_fd};
    if (syscall(SYS_landlock_add_rule, ruleset, kLandlockRulePathBeneath, &beneath, 0) != 0) return 0;
    if (devnull_fd >= 0) {
        LandlockPathBeneathAttr null_dev{kFsWriteFile | (abi >= 3 ? kFsTruncate : 0), devnull_fd};
        syscall(SYS_landlock_add_rule, ruleset, kLandlockRulePathBeneath, &null_dev, 0);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 0;
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) return 0;
    close(ruleset);
    return kLandlockFs | (abi >= 4 ? static_cast<uint32_t>(kLandlockNet) : 0u);
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit r {
        soft, hard
    };
    setrlimit(resource, &r);
}

// Processes that belong to `uid` now (RLIMIT_NPROC counts them all, so a non-root sandbox adds its budget).
int processes_of(uid_t uid) {
    int count = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        struct stat st {};
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (stat(entry.path().c_str(), &st) == 0 && st.st_uid == uid) ++count;
    }
    return count;
}

bool contains(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

}  // namespace

const char* sandbox_outcome_name(SandboxOutcome outcome) {
    switch (outcome) {
        case SandboxOutcome::ok:
            return "ok";
        case SandboxOutcome::failed:
            return "failed";
        case SandboxOutcome::timeout:
            return "timeout";
        case SandboxOutcome::cpu_limit:
            return "cpu_limit";
        case SandboxOutcome::memory_limit:
            return "memory_limit";
        case SandboxOutcome::process_limit:
            return "process_limit";
        case SandboxOutcome::killed:
            return "killed";
    }
    return "?";
}

std::string find_python3() {
    for (const char* path : {"/usr/bin/python3", "/usr/local/bin/python3"})
        if (access(path, X_OK) == 0) return path;
    return "";
}

Result<SandboxResult> run_python_sandboxed(const std::string& code, const SandboxLimits& limits) {
    const std::string python = find_python3();
    if (python.empty()) return Status::unsupported("sandbox: no python3 found (/usr/bin/python3)");

    char dir_template[] = "/tmp/duet-sandbox-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return Status::io_error("sandbox: mkdtemp: %s", std::strerror(errno));
    const std::string dir = dir_template;
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } cleanup{dir};
    {
        std::ofstream main_py(dir + "/main.py", std::ios::binary);
        main_py << code;
        if (!main_py) return Status::io_error("sandbox: cannot write %s/main.py", dir.c_str());
    }
    const bool root = geteuid() == 0;
    if (root && (chown(dir.c_str(), kNobody, kNobody) != 0 || chown((dir + "/main.py").c_str(), kNobody, kNobody) != 0))
        return Status::io_error("sandbox: chown %s: %s", dir.c_str(), std::strerror(errno));

    SandboxResult result;
    const int abi = landlock_abi();
    const uid_t sandbox_uid = root ? kNobody : geteuid();
    const rlim_t nproc = static_cast<rlim_t>(limits.max_processes + processes_of(sandbox_uid));

    // Everything the child needs, prepared before fork (no allocation after it).
    const std::string home = "HOME=" + dir, tmp = "TMPDIR=" + dir;
    const char* argv[] = {python.c_str(), "-I", "-B", "main.py", nullptr};
    const char* envp[] = {"PATH=/usr/bin:/bin", home.c_str(), tmp.c_str(), "LANG=C.UTF-8", nullptr};
    int out_pipe[2], err_pipe[2], report_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(report_pipe, O_CLOEXEC) != 0)
        return Status::io_error("sandbox: pipe: %s", std::strerror(errno));
    const int dir_fd = open(dir.c_str(), O_PATH | O_CLOEXEC);
    const int devnull_fd = open("/dev/null", O_PATH | O_CLOEXEC);

    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid < 0) return Status::io_error("sandbox: fork: %s", std::strerror(errno));
    if (pid == 0) {
        uint32_t flags = 0;
        setpgid(0, 0);
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        const int null_in = open("/dev/null", O_RDONLY);
        if (null_in >= 0) dup2(null_in, STDIN_FILENO);
        if (unshare(CLONE_NEWNET) == 0) flags |= kNetNamespace;
        else if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) flags |= kNetUserNamespace;
        set_limit(RLIMIT_CPU, static_cast<rlim_t>(limits.cpu_seconds), static_cast<rlim_t>(limits.cpu_seconds + 1));
        set_limit(RLIMIT_AS, limits.memory_bytes, limits.memory_bytes);
        set_limit(RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes);
        set_limit(RLIMIT_NOFILE, 64, 64);
        set_limit(RLIMIT_CORE, 0, 0);
        set_limit(RLIMIT_NPROC, nproc, nproc);
        flags |= kNprocSet;
        if (root) {
            if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) {
                flags |= kSetupFailed;
                (void)!write(report_pipe[1], &flags, sizeof(flags));
                _exit(126);
            }
            flags |= kDroppedToNobody;
        }
        flags |= apply_landlock(abi, dir_fd, devnull_fd);
        if (chdir(dir.c_str()) != 0) flags |= kSetupFailed;
        (void)!write(report_pipe[1], &flags, sizeof(flags));
        execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        flags |= kExecFailed;
        (void)!write(report_pipe[1], &flags, sizeof(flags));
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(report_pipe[1]);
    if (dir_fd >= 0) close(dir_fd);
    if (devnull_fd >= 0) close(devnull_fd);

    uint32_t flags = 0, word = 0;
    while (read(report_pipe[0], &word, sizeof(word)) == static_cast<ssize_t>(sizeof(word))) flags = word;
    close(report_pipe[0]);

    // Collect stdout/stderr until both close, the child ends, or the wall limit passes.
    std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
    int fds[2] = {out_pipe[0], err_pipe[0]};
    const auto deadline = started + std::chrono::seconds(limits.wall_seconds);
    bool timed_out = false, exited = false;
    int status = 0;
    struct rusage usage {};
    auto drained_after_exit = std::chrono::steady_clock::time_point::max();
    while (fds[0] >= 0 || fds[1] >= 0) {
        const auto now = std::chrono::steady_clock::now();
        if (!exited && now >= deadline) {
            timed_out = true;
            kill(-pid, SIGKILL);
        }
        if (!exited && wait4(pid, &status, WNOHANG, &usage) == pid) {
            exited = true;
            kill(-pid, SIGKILL);  // what is left of its process group (a fork bomb's children)
            drained_after_exit = now + std::chrono::milliseconds(500);
        }
        if (now >= drained_after_exit) break;
        pollfd polls[2];
        nfds_t n = 0;
        for (int i = 0; i < 2; ++i)
            if (fds[i] >= 0) polls[n++] = {fds[i], POLLIN, 0};
        if (poll(polls, n, 50) <= 0) continue;
        for (nfds_t p = 0; p < n; ++p) {
            if (!(polls[p].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const int which = polls[p].fd == fds[0] ? 0 : 1;
            char buffer[4096];
            const ssize_t got = read(fds[which], buffer, sizeof(buffer));
            if (got <= 0) {
                close(fds[which]);
                fds[which] = -1;
                continue;
            }
            const size_t room = limits.max_output_bytes - std::min(limits.max_output_bytes, sinks[which]->size());
            sinks[which]->append(buffer, std::min(room, static_cast<size_t>(got)));
            if (static_cast<size_t>(got) > room) result.output_truncated = true;
        }
    }
    for (int fd : fds)
        if (fd >= 0) close(fd);
    if (!exited) {
        kill(-pid, SIGKILL);
        wait4(pid, &status, 0, &usage);
    }
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    SandboxIsolation& iso = result.isolation;
    iso.network = flags & (kNetNamespace | kNetUserNamespace | kLandlockNet);
    iso.filesystem = flags & kLandlockFs;
    iso.processes = (flags & kNprocSet) && (!root || (flags & kDroppedToNobody));
    if (flags & kNetNamespace) iso.notes.push_back("network: new network namespace");
    else if (flags & kNetUserNamespace) iso.notes.push_back("network: new user + network namespace");
    else iso.notes.push_back("network: namespaces refused by the kernel");
    if (flags & kLandlockNet) iso.notes.push_back("network: Landlock denies TCP bind/connect");
    iso.notes.push_back(flags & kLandlockFs
                            ? strformat("filesystem: Landlock ABI %d, writable only beneath the temp dir", abi)
                            : std::string("filesystem: Landlock unavailable, writes are NOT confined"));
    iso.notes.push_back(flags & kDroppedToNobody ? "user: nobody (65534)" : "user: unchanged");
    if (flags & kExecFailed) return Status::io_error("sandbox: cannot execute %s", python.c_str());
    if (flags & kSetupFailed) return Status::io_error("sandbox: setting up the child failed (setuid or chdir)");

    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    if (timed_out) result.outcome = SandboxOutcome::timeout;
    else if (result.signal == SIGXCPU) result.outcome = SandboxOutcome::cpu_limit;
    else if (result.signal == SIGKILL) {  // the hard CPU limit, or something else
        result.outcome = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec >= limits.cpu_seconds ? SandboxOutcome::cpu_limit
                                                                                             : SandboxOutcome::killed;
    } else if (result.signal != 0) result.outcome = SandboxOutcome::killed;
    else if (result.exit_code == 0) result.outcome = SandboxOutcome::ok;
    else if (contains(result.stderr_text, "MemoryError")) result.outcome = SandboxOutcome::memory_limit;
    else if (contains(result.stderr_text, "BlockingIOError") ||
             contains(result.stderr_text, "Resource temporarily unavailable"))
        result.outcome = SandboxOutcome::process_limit;
    else result.outcome = SandboxOutcome::failed;
    return result;
}

}  // namespace duet::eval
