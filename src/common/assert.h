// assert.h: DUET_ASSERT guards our own invariants only (never user input); it stays on in release builds.
#pragma once

#include <cstdio>
#include <cstdlib>

#define DUET_ASSERT(cond)                                                                     \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

#define DUET_UNREACHABLE()                                                \
    do {                                                                  \
        std::fprintf(stderr, "%s:%d: unreachable\n", __FILE__, __LINE__); \
        std::abort();                                                     \
    } while (0)
