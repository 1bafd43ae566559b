// tensor_binder.h: binds named GGUF tensors as typed views, collecting every missing tensor and every
// shape/type mismatch so the load error lists all of them at once. Used by the arch/ files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "gguf/gguf.h"
#include "model/weights.h"

namespace duet::model {

class TensorBinder {
public:
    explicit TensorBinder(const gguf::GgufFile& file) : file_(file) {}

    // A matrix W (d,n) of any type duet can multiply.
    WeightView matrix(const std::string& name, int64_t n, int64_t d);
    // A vector (n,) stored as F32 (norm weights, biases, rope factors). Null when absent and optional.
    const float* vector(const std::string& name, int64_t n, bool required = true);

    // ok, or invalid_data listing every problem ("N tensor problem(s):\n  'name': ...", one line when N is 1).
    Status status() const;

private:
    const gguf::TensorInfo* find(const std::string& name, bool required);
    void add_problem(std::string p) { problems_.push_back(std::move(p)); }

    const gguf::GgufFile& file_;
    std::vector<std::string> problems_;
};

}  // namespace duet::model
