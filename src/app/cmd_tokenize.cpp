// cmd_tokenize.cpp: `duet tokenize -m M.gguf [--add-special] [--parse-special] [--json] -- TEXT`: ids and pieces.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.h"
#include "common/strformat.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace duet::app {

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: duet tokenize -m MODEL.gguf [--add-special] [--parse-special] [--json] -- TEXT...\n\n"
                 "Tokenizes TEXT (the arguments after '--', joined by single spaces) with the model's vocabulary\n"
                 "and prints one token per line: id<TAB>'piece' (the piece's bytes; newlines, tabs, quotes,\n"
                 "backslashes, control and invalid UTF-8 bytes escaped).\n\n"
                 "  -m, --model FILE   GGUF file with tokenizer.ggml.* metadata (a vocab-only file works)\n"
                 "  --add-special      add BOS/EOS (CLS/SEP) as the vocabulary asks\n"
                 "  --parse-special    turn special-token text such as <|im_end|> into its id\n"
                 "  --json             print exactly {\"ids\":[...]} on one line instead\n"
                 "  -h, --help         this text\n\n"
                 "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n");
}

int fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

// The piece as one printable line: UTF-8 kept, everything else escaped.
std::string escape_piece(std::string_view piece) {
    std::string out;
    for (size_t i = 0; i < piece.size();) {
        const auto c = static_cast<unsigned char>(piece[i]);
        const size_t len = c < 0x80 ? 1 : tok::unicode::valid_utf8_len(piece, i);
        if (len > 1) {  // a whole valid UTF-8 character
            out.append(piece.substr(i, len));
            i += len;
            continue;
        }
        ++i;
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\'':
                out += "\\'";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (len == 0 || c < 0x20 || c == 0x7F) out += strformat("\\x%02x", c);  // control or stray byte
                else out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
    std::string model_path;
    bool add_special = false, parse_special = false, json = false, have_text = false;
    std::string text;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            for (int j = i + 1; j < argc; ++j) {
                if (j > i + 1) text += ' ';
                text += argv[j];
            }
            have_text = true;
            break;
        }
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        }
        if (arg == "-m" || arg == "--model") {
            if (i + 1 >= argc) return fail(std::string(arg) + " needs a file name");
            model_path = argv[++i];
        } else if (arg == "--add-special") {
            add_special = true;
        } else if (arg == "--parse-special") {
            parse_special = true;
        } else if (arg == "--json") {
            json = true;
        } else {
            return fail("tokenize: unknown argument '" + std::string(arg) + "' (text goes after '--'; see --help)");
        }
    }
    if (model_path.empty()) return fail("tokenize: -m MODEL.gguf is required");
    if (!have_text) return fail("tokenize: no text; pass it after '--'");

    auto file = gguf::GgufFile::open(model_path);
    if (!file.ok()) return fail(file.status().message());
    auto tokenizer = tok::Tokenizer::from_gguf(**file);
    if (!tokenizer.ok()) return fail("'" + model_path + "': " + tokenizer.status().message());

    const std::vector<tok::TokenId> ids = (*tokenizer)->encode(text, add_special, parse_special);
    std::string out;
    if (json) {
        out = "{\"ids\":[";
        for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
        out += "]}\n";
    } else {
        for (tok::TokenId id : ids)
            out += strformat("%d\t'%s'\n", id, escape_piece((*tokenizer)->token_to_piece(id)).c_str());
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace duet::app
