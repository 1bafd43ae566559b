// fixtures.h: where the shared test fixtures and the built duet binary live.
#pragma once

#include <string>

namespace duet::test {

// ../shared/fixtures (or $DUET_FIXTURES); empty when absent.
std::string fixtures_dir();
// Path of a fixture file, or empty when the fixtures are absent.
std::string fixture(const std::string& relative);
// The built `duet` binary.
std::string duet_binary();
// A fresh temporary directory for this test process.
std::string temp_dir();
// Read a whole file into a string (empty on error).
std::string read_file(const std::string& path);

}  // namespace duet::test

// Skip the test, loudly, when the shared fixtures are missing.
#define DUET_REQUIRE_FIXTURES()                                                                   \
    do {                                                                                          \
        if (::duet::test::fixtures_dir().empty())                                                 \
            GTEST_SKIP() << "SKIPPED: shared fixtures not found (expected ../shared/fixtures or " \
                            "$DUET_FIXTURES); this test needs them";                              \
    } while (0)
