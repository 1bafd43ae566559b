// progress.h: a download's progress on stderr: a bar with speed and ETA redrawn in place on a terminal, plain lines
// (every 10% or 5 s) otherwise. May include only common/.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace duet::hub {

class ProgressPrinter {
public:
    // `label` names the file; `already` bytes were on disk before this transfer (a resume).
    ProgressPrinter(FILE* out, std::string label, uint64_t total, uint64_t already);
    // Called with the bytes received so far in this transfer and the seconds since it started.
    void update(uint64_t fetched, double seconds);
    // The closing line.
    void finish(uint64_t fetched, double seconds);

private:
    std::string line(uint64_t fetched, double seconds) const;

    FILE* out_;
    std::string label_;
    uint64_t total_, already_;
    bool tty_;
    double last_print_ = -1;
    int last_decile_ = -1;
};

}  // namespace duet::hub
