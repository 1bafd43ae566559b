// threads.h: how many threads a test may start. DUET_TEST_SINGLE_THREAD=1 (the arm64 stage in duet.sh sets it)
// keeps every test in one thread: qemu-aarch64 7.2 (Debian 12) spins forever in the guest's pthread_create on the
// CI's host kernel (seen with Linux 6.18), and qemu on an x86 host runs ARM code with x86 memory ordering anyway, so
// emulated threads could not show an ARM ordering bug. Tests whose subject is threads skip there.
#pragma once

#include <cstdlib>

namespace duet::test {

inline bool single_thread() {
    const char* v = std::getenv("DUET_TEST_SINGLE_THREAD");
    return v != nullptr && v[0] == '1';
}

// `wanted`, or 1 (a ThreadPool of 1 starts no thread) under DUET_TEST_SINGLE_THREAD=1.
inline int pool_threads(int wanted) { return single_thread() ? 1 : wanted; }

}  // namespace duet::test

// Skip, loudly, a test whose subject is threads when tests must stay in one thread.
#define DUET_REQUIRE_THREADS()                                                                         \
    do {                                                                                               \
        if (::duet::test::single_thread()) GTEST_SKIP() << "DUET_TEST_SINGLE_THREAD=1: needs threads"; \
    } while (0)
