// tensor_binder.cpp: TensorBinder: named tensors as typed views, every problem collected.
#include "model/arch/tensor_binder.h"

#include "common/strformat.h"

namespace duet::model {

WeightView TensorBinder::matrix(const std::string& name, int64_t n, int64_t d) {
    const gguf::TensorInfo* t = find(name, true);
    if (t == nullptr) return {};
    if (t->n_dims != 2 || t->ne[0] != n || t->ne[1] != d) {
        add_problem(strformat("'%s': shape [%lld, %lld] (%d dims), expected [%lld, %lld]", name.c_str(),
                              static_cast<long long>(t->ne[0]), static_cast<long long>(t->ne[1]), t->n_dims,
                              static_cast<long long>(n), static_cast<long long>(d)));
        return {};
    }
    if (!traits(t->type).supported) {
        add_problem(strformat("'%s': tensor type %.*s is not supported", name.c_str(),
                              static_cast<int>(tensor_type_name(t->type).size()), tensor_type_name(t->type).data()));
        return {};
    }
    return {t->type, t->data, n, d, static_cast<size_t>(t->n_bytes)};
}

const float* TensorBinder::vector(const std::string& name, int64_t n, bool required) {
    const gguf::TensorInfo* t = find(name, required);
    if (t == nullptr) return nullptr;
    if (t->n_dims != 1 || t->ne[0] != n) {
        add_problem(strformat("'%s': shape [%lld] (%d dims), expected [%lld]", name.c_str(),
                              static_cast<long long>(t->ne[0]), t->n_dims, static_cast<long long>(n)));
        return nullptr;
    }
    if (t->type != TensorType::F32) {
        add_problem(strformat("'%s': type %.*s, expected f32", name.c_str(),
                              static_cast<int>(tensor_type_name(t->type).size()), tensor_type_name(t->type).data()));
        return nullptr;
    }
    if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0) {
        add_problem(strformat("'%s': data not 4-byte aligned", name.c_str()));
        return nullptr;
    }
    return reinterpret_cast<const float*>(t->data);
}

Status TensorBinder::status() const {
    if (problems_.empty()) return {};
    if (problems_.size() == 1) return Status::invalid_data("1 tensor problem: %s", problems_[0].c_str());  // one line
    std::string msg = strformat("%zu tensor problem(s):", problems_.size());
    for (const auto& p : problems_) msg += "\n  " + p;
    return Status::invalid_data("%s", msg.c_str());
}

const gguf::TensorInfo* TensorBinder::find(const std::string& name, bool required) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr && required) add_problem(strformat("'%s': missing", name.c_str()));
    return t;
}

}  // namespace duet::model
