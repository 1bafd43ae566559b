// upstream_args.cpp: NAME=URL[#model] -> UpstreamSpec.
#include "upstream/upstream_args.h"

namespace duet::upstream {

Status add_upstream_arg(const std::string& arg, std::vector<UpstreamSpec>* specs) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        return Status::invalid_argument("--upstream '%s': expected NAME=URL[#model]", arg.c_str());
    const std::string name = arg.substr(0, eq);
    std::string url = arg.substr(eq + 1), model;
    if (const size_t hash = url.find('#'); hash != std::string::npos) {
        model = url.substr(hash + 1);
        url.resize(hash);
        if (model.empty()) return Status::invalid_argument("--upstream '%s': empty model after '#'", arg.c_str());
    }
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return Status::invalid_argument("--upstream '%s': the URL must start with http:// or https://", arg.c_str());
    for (auto& spec : *specs) {
        if (spec.name != name) continue;
        spec.replicas.push_back({url, model});
        return Status::ok_status();
    }
    specs->push_back({name, {{url, model}}});
    return Status::ok_status();
}

}  // namespace duet::upstream
