// sha256.h: streaming SHA-256 (OpenSSL's libcrypto) for verifying downloads against the hub's LFS oid.
// May include only common/.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"

namespace duet::hub {

// Feed bytes with update(), then hex() once: 64 lowercase hex digits.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n_bytes);
    std::string hex();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// SHA-256 of a whole string (tests, small inputs).
std::string sha256_hex(const std::string& bytes);

// Feeds the first `n_bytes` of `path` into `hash` (resuming a download hashes what is already on disk).
Status hash_file_prefix(const std::string& path, uint64_t n_bytes, Sha256& hash);

}  // namespace duet::hub
