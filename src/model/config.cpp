// config.cpp: ModelConfig from GGUF metadata: `general.architecture` picks the arch/ file, which reads the rest.
#include "model/config.h"

#include <string>

#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

std::string_view arch_name(Arch arch) { return arch_spec(arch).name; }

std::string_view pooling_name(Pooling pooling) {
    switch (pooling) {
        case Pooling::none:
            return "none";
        case Pooling::mean:
            return "mean";
        case Pooling::cls:
            return "cls";
        case Pooling::last:
            return "last";
    }
    return "?";
}

Result<ModelConfig> config_from_gguf(const gguf::GgufFile& file) {
    auto arch_str = file.get_string("general.architecture");
    if (!arch_str.ok()) return arch_str.status().with_context("model config: ");
    const ArchSpec* spec = find_arch(*arch_str);
    if (spec == nullptr) {
        std::string known;
        for (const ArchSpec* s : all_archs()) known += (known.empty() ? "" : ", ") + std::string(s->name);
        return Status::unsupported("model config: general.architecture '%.*s' is not supported (%s)",
                                   static_cast<int>(arch_str->size()), arch_str->data(), known.c_str());
    }
    ModelConfig c;
    c.arch = spec->arch;
    c.family = spec->family;
    DUET_RETURN_IF_ERROR(spec->read_config(file, c));
    return c;
}

}  // namespace duet::model
