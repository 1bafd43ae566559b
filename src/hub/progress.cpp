// progress.cpp: the progress bar and its plain-line form.
#include "hub/progress.h"

#include <unistd.h>

#include "common/strformat.h"

namespace duet::hub {

namespace {

constexpr int kBarWidth = 24;
constexpr double kTtyRedrawSeconds = 0.2;
constexpr double kPlainLineSeconds = 5.0;

std::string format_duration(double s) {
    if (s < 0 || s > 99 * 3600) return "--:--";
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600) return strformat("%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    return strformat("%02ld:%02ld", t / 60, t % 60);
}

}  // namespace

ProgressPrinter::ProgressPrinter(FILE* out, std::string label, uint64_t total, uint64_t already)
    : out_(out), label_(std::move(label)), total_(total), already_(already), tty_(isatty(fileno(out)) != 0) {}

std::string ProgressPrinter::line(uint64_t fetched, double seconds) const {
    const uint64_t have = already_ + fetched;
    const double fraction = total_ > 0 ? static_cast<double>(have) / static_cast<double>(total_) : 0.0;
    const double speed = seconds > 0 ? static_cast<double>(fetched) / seconds : 0.0;
    const double eta = speed > 0 && total_ >= have ? static_cast<double>(total_ - have) / speed : -1;
    std::string bar;
    if (tty_) {
        const int filled = static_cast<int>(fraction * kBarWidth);
        bar = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
    }
    return strformat("%s %s%5.1f%% %s / %s  %s/s  ETA %s", label_.c_str(), bar.c_str(), 100.0 * fraction,
                     format_bytes(static_cast<double>(have)).c_str(), format_bytes(static_cast<double>(total_)).c_str(),
                     format_bytes(speed).c_str(), format_duration(eta).c_str());
}

void ProgressPrinter::update(uint64_t fetched, double seconds) {
    if (tty_) {
        if (seconds - last_print_ < kTtyRedrawSeconds) return;
        last_print_ = seconds;
        std::fprintf(out_, "\r%s\033[K", line(fetched, seconds).c_str());
        std::fflush(out_);
        return;
    }
    const int decile = total_ > 0 ? static_cast<int>(10 * (already_ + fetched) / total_) : 0;
    if (decile == last_decile_ && seconds - last_print_ < kPlainLineSeconds) return;
    last_decile_ = decile;
    last_print_ = seconds;
    std::fprintf(out_, "%s\n", line(fetched, seconds).c_str());
}

void ProgressPrinter::finish(uint64_t fetched, double seconds) {
    std::fprintf(out_, tty_ ? "\r%s\033[K\n" : "%s\n", line(fetched, seconds).c_str());
    std::fflush(out_);
}

}  // namespace duet::hub
