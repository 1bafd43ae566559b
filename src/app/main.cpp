// main.cpp: the duet binary: one front door, one subcommand per file (cmd_*.cpp).
#include <cstdio>
#include <cstring>
#include <string_view>

#include "app/commands.h"

namespace {

struct Command {
    const char* name;
    int (*run)(int argc, char** argv);
    const char* help;
};

constexpr Command kCommands[] = {
    {"serve", duet::app::cmd_serve, "OpenAI-compatible HTTP server for one or more models"},
    {"pull", duet::app::cmd_pull, "download a GGUF from the Hugging Face hub (ORG/REPO[:QUANT])"},
    {"models", duet::app::cmd_models, "list, show or remove the models duet pull downloaded"},
    {"generate", duet::app::cmd_generate, "generate text from a prompt"},
    {"bench", duet::app::cmd_bench, "engine speed (pp/tg tok/s, GB/s) or load-test a server (--url)"},
    {"logits", duet::app::cmd_logits, "print logits for token ids as JSON"},
    {"embed", duet::app::cmd_embed, "sentence vectors from a BERT-family encoder"},
    {"tokenize", duet::app::cmd_tokenize, "tokenize text with a model's vocabulary"},
    {"template", duet::app::cmd_template, "render a chat template for messages"},
    {"inspect", duet::app::cmd_inspect, "show a GGUF file's metadata and tensors"},
    {"make-model", duet::app::cmd_make_model, "write a random-weight GGUF model of a real shape"},
    {"eval", duet::app::cmd_eval, "run eval suites against OpenAI-compatible targets; compare runs"},
    {"arena", duet::app::cmd_arena, "the arena's leaderboard with intervals (report) or its battles as CSV (export)"},
    {"route", duet::app::cmd_route, "route a message to the expert or daily model and explain why; eval, fit"},
};

void usage(FILE* out) {
    std::fprintf(out, "usage: duet <command> [options]\n\ncommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-11s %s\n", c.name, c.help);
    std::fprintf(out, "\n'duet <command> --help' shows a command's options; 'duet --version' the version.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version" || name == "-V" || name == "version") {
        std::printf("duet %s\n", DUET_VERSION);
        return 0;
    }
    for (const auto& c : kCommands)
        if (name == c.name) return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
