// serve.cpp: serve_until_signal: signals blocked first, listen, Registry::load_all, ready, sigwait, shut down.
#include "server/serve.h"

#include <csignal>
#include <ctime>
#include <cstdio>
#include <pthread.h>

#include "common/log.h"
#include "router/router.h"
#include "server/route_roles.h"
#include "server/route_select.h"
#include "server/scripted_model.h"
#include "web/assets.h"
#include "server/routes_api_conversations.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "upstream/pool.h"

namespace duet::server {

Status serve_until_signal(const ServeConfig& config) {
    // SIGINT/SIGTERM are taken by sigwait() below; block them before any thread starts so none receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto models = std::make_shared<registry::Registry>(config.load);
    // -m NAME=script:FILE.jsonl: a scripted test model (scripted_model.h), ready at once; the rest are GGUF files.
    constexpr std::string_view kScriptPrefix = "script:";
    for (const auto& spec : config.models) {
        if (spec.path.rfind(kScriptPrefix, 0) == 0) {
            auto script = scripted::load_script(spec.path.substr(kScriptPrefix.size()));
            if (!script.ok()) return script.status().with_context("model '" + spec.name + "': ");
            registry::Serving serving = scripted::make_serving(spec.name, std::move(script).value());
            DUET_RETURN_IF_ERROR(
                models->add_ready(spec.name, std::move(serving), spec.role, static_cast<int64_t>(std::time(nullptr))));
            continue;
        }
        DUET_RETURN_IF_ERROR(models->add_gguf(spec.name, spec.path, spec.role));
    }
    // --upstream: a pool per name, ready at once (its replicas are health-checked in the background).
    for (const auto& spec : config.upstreams) {
        DUET_TRY(auto pool, upstream::Pool::create(spec.name, spec.replicas, config.upstream_options));
        pool->start_health_checks();
        DUET_RETURN_IF_ERROR(models->add_remote(spec.name, pool));
        DUET_LOG_INFO("%s: upstream %s", spec.name.c_str(), pool->source().c_str());
    }

    // The router: its files and the --expert/--daily names are checked before anything loads.
    auto router = router::Router::create(config.route_keywords_path, config.route_model_path);
    if (!router.ok()) return router.status().with_context("router: ");
    if (!router->keywords_match_model())
        DUET_LOG_WARN("router: the keyword list is not the one the router model was fitted with (duet route fit)");
    std::vector<RoleCandidate> candidates;
    for (const auto& spec : config.models) candidates.push_back({spec.name, true});
    for (const auto& spec : config.upstreams) candidates.push_back({spec.name, true});  // a remote model may too
    DUET_RETURN_IF_ERROR(choose_route_roles(candidates, config.expert_model, config.daily_model).status());

    // The conversations' store: opened (and migrated) before listening, so a bad --data-dir / --store fails fast.
    std::shared_ptr<store::Store> conversations;
    if (!config.store_url.empty()) {
        auto opened = store::Store::open_location(config.store_url);
        if (!opened.ok()) return opened.status().with_context("--store: ");
        conversations = std::move(opened).value();
    } else {
        DUET_TRY(std::string data_dir, store::resolve_data_dir(config.data_dir));
        auto opened = store::Store::open(data_dir);
        if (!opened.ok()) return opened.status().with_context("--data-dir '" + data_dir + "': ");
        conversations = std::move(opened).value();
    }
    DUET_LOG_INFO("store: %s", conversations->database().location().c_str());

    // Listen first: /health answers 503 while the models load (and a port in use fails fast). "listening on" is
    // printed once they have loaded, so that it never precedes a model that fails.
    Server server(config.server, models);
    auto model_names = [models] {
        std::vector<std::string> names;
        for (const auto& entry : models->entries()) names.push_back(entry->name());
        return names;
    };
    DUET_RETURN_IF_ERROR(server.add_routes(api_conversation_routes(conversations, model_names)));
    DUET_RETURN_IF_ERROR(server.add_arena_routes(conversations, config.arena));
    DUET_RETURN_IF_ERROR(server.start());

    if (Status st = models->load_all(); !st.ok()) {
        server.stop();
        return st;
    }
    // Roles among the loaded models (only chat models may play one); duet-auto & co. only with both.
    candidates.clear();
    for (const auto& entry : models->entries())
        candidates.push_back({entry->name(), entry->ready() && entry->capabilities().chat});
    auto roles = choose_route_roles(candidates, config.expert_model, config.daily_model);
    if (!roles.ok()) {
        server.stop();
        return roles.status();
    }
    for (const auto& note : roles->notes) DUET_LOG_WARN("router: %s", note.c_str());
    if (roles->complete()) {
        server.set_routing(
            std::make_shared<RouteService>(std::make_shared<const router::Router>(std::move(router).value()),
                                           roles->expert, roles->daily));
        DUET_LOG_INFO("router on: duet-auto, duet-expert (%s), duet-daily (%s)", roles->expert.c_str(),
                      roles->daily.c_str());
    } else {
        server.set_routing(nullptr, roles->unavailable);
        DUET_LOG_INFO("router off: %s", roles->unavailable.c_str());
    }
    server.set_ready(true);
    std::printf("duet serve: listening on http://%s:%d\n", config.server.http.host.c_str(), server.port());
    std::printf("duet serve: chat page at http://%s:%d/%s\n", config.server.http.host.c_str(), server.port(),
                web::page_built() ? "" : " (not built: run ./duet.sh setup and rebuild)");
    // A first request to copy: the first chat model, the key's header when one is required.
    for (const auto& entry : models->ready_entries()) {
        if (!entry->capabilities().chat) continue;
        std::printf(
            "duet serve: try  curl http://%s:%d/v1/chat/completions -H 'Content-Type: application/json'%s "
            "-d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n",
            config.server.http.host.c_str(), server.port(),
            config.server.api_key.empty() ? "" : " -H \"Authorization: Bearer $DUET_API_KEY\"", entry->name().c_str());
        break;
    }
    std::fflush(stdout);
    DUET_LOG_INFO("ready: %zu model(s) on http://%s:%d", models->size(), config.server.http.host.c_str(),
                  server.port());

    int signal_number = 0;
    sigwait(&signals, &signal_number);
    DUET_LOG_INFO("signal %d: shutting down", signal_number);
    // Engines first: their unfinished requests get a final abort delta, so every open stream ends and the HTTP
    // workers can be joined.
    server.set_ready(false);
    models->stop_all();
    server.stop();
    return Status::ok_status();
}

}  // namespace duet::server
