// sandbox.h: runs untrusted code (a model's HumanEval answer) in a separate process with limits.
//
//   parent                                   child (fork; only async-signal-safe calls until exec)
//   mkdtemp /tmp/duet-sandbox-XXXXXX  ---->  setpgid; stdout/stderr to pipes; unshare(CLONE_NEWNET)
//   write main.py, chown to nobody           (root) or CLONE_NEWUSER|CLONE_NEWNET; setrlimit CPU, AS, NPROC,
//   poll pipes until exit or wall limit      FSIZE, NOFILE, CORE; drop to uid/gid 65534 when root;
//   kill(-pgid, SIGKILL), waitpid            Landlock: writes only beneath the temp dir (+ /dev/null), no TCP
//   remove the temp dir                      bind/connect (ABI >= 4); chdir temp dir; exec python3 -I -B main.py
//
// Each isolation step that the kernel refuses is reported (SandboxIsolation) and the run goes on with the rest:
// callers and tests decide whether a run without, say, network isolation is acceptable. Not covered: a process
// that calls setsid() escapes the final process-group kill (RLIMIT_NPROC and RLIMIT_CPU still bound it); reads
// are not restricted (the interpreter needs its standard library).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace duet::eval {

struct SandboxLimits {
    int cpu_seconds = 5;
    int wall_seconds = 10;
    uint64_t memory_bytes = 512ull << 20;   // address space (RLIMIT_AS)
    int max_processes = 16;                 // processes of the sandbox user (RLIMIT_NPROC)
    uint64_t max_file_bytes = 16ull << 20;  // largest file it may write (RLIMIT_FSIZE)
    size_t max_output_bytes = 64 << 10;     // kept of stdout and of stderr each; the rest is drained and dropped
};

enum class SandboxOutcome {
    ok,             // exit status 0
    failed,         // non-zero exit (an exception, a failed assert)
    timeout,        // wall-clock limit; the process group was killed
    cpu_limit,      // RLIMIT_CPU (SIGXCPU, or SIGKILL at the hard limit)
    memory_limit,   // MemoryError under RLIMIT_AS
    process_limit,  // fork refused under RLIMIT_NPROC
    killed,         // another signal
};

struct SandboxIsolation {
    bool network = false;            // a new network namespace, or Landlock's TCP rules
    bool filesystem = false;         // Landlock: writable only beneath the temp dir
    bool processes = false;          // RLIMIT_NPROC applies (it does not to root)
    std::vector<std::string> notes;  // what was used and what the kernel refused
};

struct SandboxResult {
    SandboxOutcome outcome = SandboxOutcome::failed;
    int exit_code = -1;  // when it exited
    int signal = 0;      // when a signal ended it
    std::string stdout_text;
    std::string stderr_text;
    bool output_truncated = false;
    double wall_seconds = 0;
    SandboxIsolation isolation;
};

const char* sandbox_outcome_name(SandboxOutcome outcome);

// The python3 interpreter to use ("" when there is none): the first of /usr/bin/python3, /usr/local/bin/python3.
std::string find_python3();

// Runs `code` as main.py. Fails (Status) only when the sandbox itself cannot be set up (no python3, no temp dir,
// fork failed); whatever the code does is reported in the result.
Result<SandboxResult> run_python_sandboxed(const std::string& code, const SandboxLimits& limits);

}  // namespace duet::eval
