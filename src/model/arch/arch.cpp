// arch.cpp: the table of architectures; adding one is a new arch/X.cpp and one line here.
#include "model/arch/arch.h"

#include <array>

#include "common/assert.h"

namespace duet::model {

namespace {
const std::array<const ArchSpec*, 3> kArchs = {&kLlamaArch, &kQwen2Arch, &kBertArch};
}  // namespace

std::span<const ArchSpec* const> all_archs() { return kArchs; }

const ArchSpec* find_arch(std::string_view name) {
    for (const ArchSpec* spec : kArchs)
        if (spec->name == name) return spec;
    return nullptr;
}

const ArchSpec& arch_spec(Arch arch) {
    for (const ArchSpec* spec : kArchs)
        if (spec->arch == arch) return *spec;
    DUET_ASSERT(false && "every Arch value has an ArchSpec");
    return *kArchs[0];
}

}  // namespace duet::model
