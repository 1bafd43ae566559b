// cmd_arena.cpp: `duet arena report|export`: the arena's leaderboard and splits from the store `duet serve` writes
// (the same numbers as GET /api/arena/leaderboard), or every battle turn as CSV.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "app/commands.h"
#include "app/model_args.h"
#include "arena/leaderboard.h"
#include "common/strformat.h"
#include "server/routes_api_arena.h"
#include "store/csv_export.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet arena report [--json] [--data-dir DIR | --store URL] [--bootstrap N] [--seed S]\n"
    "       duet arena export [--json] [--data-dir DIR | --store URL]\n\n"
    "report: Bradley-Terry leaderboard of every voted battle (ties and both-bad as half wins) with 95% bootstrap\n"
    "intervals, the win-rate matrix, splits by router route and language, position bias and router agreement;\n"
    "then each study: per question the share of respondents naming each model (95% Wilson), AI-speak counts.\n"
    "export: every turn of every battle as CSV on stdout (prompt, both answers, vote, latencies, route, router\n"
    "pick); with --json, JSON Lines: one battle per line, its vote and turns nested.\n\n"
    "  --json           the battles' report as one JSON object (the same as GET /api/arena/leaderboard;\n"
    "                   a study's results as JSON: GET /api/arena/studies/ID)\n"
    "  --data-dir DIR   the store (DIR/duet.db; default $XDG_DATA_HOME/duet or ~/.local/share/duet)\n"
    "  --store URL      a PostgreSQL store instead (postgres://USER[:PASSWORD]@HOST[:PORT]/DB, as duet serve)\n"
    "  --bootstrap N    bootstrap resamples (default 1000; 0 = no intervals)\n"
    "  --seed S         bootstrap seed (default 1)\n"
    "  -h, --help       this text\n\n"
    "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n";

int fail(const Status& st) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
}

void print_board(const char* title, const arena::Leaderboard& board) {
    std::printf("%s: %lld battles (%lld both bad), %d bootstrap resamples\n", title,
                static_cast<long long>(board.battles), static_cast<long long>(board.both_bad), board.bootstrap_rounds);
    if (board.ratings.empty()) return;
    std::printf("  %-4s %-32s %8s  %-19s %7s %5s %6s %5s %8s\n", "rank", "model", "elo", "95% interval", "battles",
                "wins", "losses", "ties", "win rate");
    for (const auto& r : board.ratings) {
        std::printf("  %-4d %-32s %8.1f  [%7.1f, %7.1f] %7lld %5lld %6lld %5lld %7.1f%%\n", r.rank, r.model.c_str(),
                    r.elo, r.elo_low, r.elo_high, static_cast<long long>(r.battles), static_cast<long long>(r.wins),
                    static_cast<long long>(r.losses), static_cast<long long>(r.ties), 100 * r.win_rate);
    }
    const size_t k = board.models.size();
    if (k < 2) return;
    std::printf("  win rate of row against column (battles):\n");
    for (size_t i = 0; i < k; ++i) {
        std::printf("    %-24s", board.models[i].c_str());
        for (size_t j = 0; j < k; ++j) {
            const auto& w = board.win_rate[i * k + j];
            std::printf(
                " %14s",
                w ? strformat("%.1f%% (%lld)", 100 * *w, static_cast<long long>(board.battle_count[i * k + j])).c_str()
                  : "-");
        }
        std::printf("\n");
    }
}

void print_agreement(const char* title, const arena::RouterAgreement& a) {
    if (a.with_pick == 0) {
        std::printf("%s: no battle has a router pick (duet serve needs --expert and --daily)\n", title);
        return;
    }
    std::printf("%s: %.0f of %.0f decisive votes chose the router's pick", title, a.agreement.successes,
                a.agreement.trials);
    if (a.agreement.trials > 0)
        std::printf(" (%.1f%%, 95%% [%.1f%%, %.1f%%])", 100 * a.agreement.estimate, 100 * a.agreement.low,
                    100 * a.agreement.high);
    std::printf("; %lld tie or both bad, %lld with the pick not in the battle\n", static_cast<long long>(a.undecided),
                static_cast<long long>(a.pick_not_in_battle));
}

void print_report(const arena::ArenaReport& report) {
    print_board("leaderboard", report.overall);
    for (const auto& [route, board] : report.by_route)
        print_board(strformat("\nroute %s", route.empty() ? "unknown" : route.c_str()).c_str(), board);
    for (const auto& [language, board] : report.by_language)
        print_board(strformat("\nlanguage %s", language.empty() ? "unknown" : language.c_str()).c_str(), board);
    const auto& p = report.position;
    std::printf(
        "\nposition: side A won %lld, side B won %lld (A's share %.1f%%, 95%% [%.1f%%, %.1f%%]); %lld ties, "
        "%lld both bad\n",
        static_cast<long long>(p.left_wins), static_cast<long long>(p.right_wins), 100 * p.left_win_rate.estimate,
        100 * p.left_win_rate.low, 100 * p.left_win_rate.high, static_cast<long long>(p.ties),
        static_cast<long long>(p.both_bad));
    print_agreement("router agreement", report.router);
    for (const auto& [route, agreement] : report.router_by_route)
        print_agreement(strformat("  route %s", route.empty() ? "unknown" : route.c_str()).c_str(), agreement);
}

// Each study's results (the organiser's results page as text).
Status print_studies(store::ArenaStore& arena) {
    DUET_TRY(std::vector<store::Study> studies, arena.list_studies());
    for (const auto& listed : studies) {
        DUET_TRY(server::StudyReport r, server::load_study_report(arena, listed.id));
        const store::Study& s = r.stored.study;
        std::printf("\nstudy %lld \"%s\": %s vs %s, %lld min each; %lld of %lld joined, %zu answered\n",
                    static_cast<long long>(s.id), s.name.c_str(), s.model_a.c_str(), s.model_b.c_str(),
                    static_cast<long long>(s.minutes_per_model), static_cast<long long>(r.joined),
                    static_cast<long long>(s.participant_count), r.answered.size());
        for (const auto& q : r.summary.questions) {
            std::printf("  %s (%d answered)\n", q.question.c_str(), q.respondents);
            for (const auto& m : q.models)
                std::printf("    %-34s %3d / %-3d %5.1f%%  95%% [%5.1f%%, %5.1f%%]\n", m.model.c_str(), m.named,
                            q.respondents, 100 * m.share.estimate, 100 * m.share.low, 100 * m.share.high);
        }
        for (const auto& m : r.summary.ai_speak) {
            std::string phrases;
            for (const auto& p : m.count.phrases)
                phrases += strformat("%s\"%s\" x%d", phrases.empty() ? "" : ", ", p.phrase.c_str(), p.count);
            std::printf("  AI-speak about %s: %d phrase(s) in %d free text(s)%s%s%s\n", m.model.c_str(), m.count.total,
                        m.texts, phrases.empty() ? "" : " (", phrases.c_str(), phrases.empty() ? "" : ")");
        }
    }
    return Status::ok_status();
}

}  // namespace

int cmd_arena(int argc, char** argv) {
    std::string action, data_dir_flag, store_url;
    bool json = false;
    arena::LeaderboardOptions options;
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("--json")) {
                json = true;
            } else if (args.is("--data-dir")) {
                DUET_TRY(data_dir_flag, args.value());
            } else if (args.is("--store")) {
                DUET_TRY(store_url, args.value());
            } else if (args.is("--bootstrap")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(int64_t n, parse_int(v, "--bootstrap"));
                if (n < 0 || n > 100000) return Status::invalid_argument("--bootstrap must be 0..100000");
                options.bootstrap_rounds = static_cast<int>(n);
            } else if (args.is("--seed")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(options.seed, parse_u64(v, "--seed"));
            } else if (args.arg().starts_with("-")) {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            } else if (action.empty()) {
                action = args.arg();
            } else {
                return Status::invalid_argument("unexpected argument '%s'\n%s", std::string(args.arg()).c_str(),
                                                kUsage);
            }
        }
        if (action != "report" && action != "export")
            return Status::invalid_argument("expected 'report' or 'export'\n%s", kUsage);
        return {};
    };
    if (Status st = parse(); !st.ok()) return fail(st);

    Result<std::unique_ptr<store::Store>> opened = Status::invalid_argument("no store");
    if (!store_url.empty()) {
        opened = store::Store::open_location(store_url);
        if (!opened.ok()) return fail(opened.status().with_context("--store: "));
    } else {
        auto data_dir = store::resolve_data_dir(data_dir_flag);
        if (!data_dir.ok()) return fail(data_dir.status());
        opened = store::Store::open(*data_dir);
        if (!opened.ok()) return fail(opened.status().with_context("--data-dir '" + *data_dir + "': "));
    }
    store::Store& store = **opened;
    if (action == "export") {
        const Status st = json ? store::write_battles_jsonl(store.arena(), std::cout)
                               : store::write_battles_csv(store.arena(), std::cout);
        if (!st.ok()) return fail(st);
        std::cout.flush();
        return 0;
    }
    auto battles = server::load_arena_battles(store.arena());
    if (!battles.ok()) return fail(battles.status());
    const arena::ArenaReport report = arena::build_report(*battles, options);
    if (json) {
        std::printf("%s\n", server::arena_report_json(report).c_str());
    } else {
        print_report(report);
        if (Status st = print_studies(store.arena()); !st.ok()) return fail(st);
    }
    return 0;
}

}  // namespace duet::app
