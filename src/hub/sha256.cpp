// sha256.cpp: Sha256 over OpenSSL's EVP digest interface.
#include "hub/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/assert.h"

namespace duet::hub {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    DUET_ASSERT(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t n_bytes) { DUET_ASSERT(EVP_DigestUpdate(impl_->ctx, data, n_bytes) == 1); }

std::string Sha256::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    DUET_ASSERT(EVP_DigestFinal_ex(impl_->ctx, digest, &n) == 1 && n == 32);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (unsigned int i = 0; i < n; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 15]);
    }
    return out;
}

std::string sha256_hex(const std::string& bytes) {
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.hex();
}

Status hash_file_prefix(const std::string& path, uint64_t n_bytes, Sha256& hash) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Status::io_error("hub: cannot read '%s': %s", path.c_str(), std::strerror(errno));
    std::vector<char> buf(1 << 20);
    uint64_t left = n_bytes;
    while (left > 0) {
        const size_t want = left < buf.size() ? static_cast<size_t>(left) : buf.size();
        const size_t got = std::fread(buf.data(), 1, want, f);
        if (got == 0) break;
        hash.update(buf.data(), got);
        left -= got;
    }
    std::fclose(f);
    if (left != 0)
        return Status::io_error("hub: '%s' is shorter than %llu bytes", path.c_str(),
                                static_cast<unsigned long long>(n_bytes));
    return {};
}

}  // namespace duet::hub
