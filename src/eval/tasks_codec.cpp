// tasks_codec.cpp: CSV and HumanEval JSONL readers.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "common/ascii.h"
#include "eval/tasks.h"

namespace duet::eval {

namespace {

Result<std::string> read_text(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return Status::io_error("%s: cannot open", path.c_str());
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) return Status::io_error("%s: read error", path.c_str());
    return text.str();
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(const std::string& text, const std::string& source) {
    std::vector<CsvRow> rows;
    size_t at = 0;
    int line = 1;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) at = 3;  // UTF-8 byte order mark (Excel exports)
    while (at < text.size()) {
        CsvRow row;
        row.line = line;
        std::string field;
        bool in_quotes = false, quoted = false, row_done = false;
        while (!row_done) {
            if (at >= text.size()) {
                if (in_quotes)
                    return Status::invalid_data("%s:%d: quoted field never closed", source.c_str(), row.line);
                row.fields.push_back(std::move(field));
                break;
            }
            const char c = text[at++];
            if (in_quotes) {
                if (c == '"') {
                    if (at < text.size() && text[at] == '"') {
                        field += '"';
                        ++at;
                    } else {
                        in_quotes = false;
                    }
                } else {
                    if (c == '\n') ++line;
                    field += c;
                }
            } else if (c == '"') {
                if (!field.empty() || quoted)
                    return Status::invalid_data("%s:%d: stray quote inside an unquoted field", source.c_str(), line);
                in_quotes = quoted = true;
            } else if (c == ',') {
                row.fields.push_back(std::move(field));
                field.clear();
                quoted = false;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && at < text.size() && text[at] == '\n') ++at;
                ++line;
                row.fields.push_back(std::move(field));
                row_done = true;
            } else {
                if (quoted) return Status::invalid_data("%s:%d: text after a closing quote", source.c_str(), line);
                field += c;
            }
        }
        const bool blank = row.fields.size() == 1 && row.fields[0].empty();
        if (!blank) rows.push_back(std::move(row));
    }
    return rows;
}

Result<std::vector<MultipleChoice>> parse_multiple_choice_csv(const std::string& text, const std::string& source) {
    DUET_TRY(std::vector<CsvRow> rows, parse_csv(text, source));
    if (rows.empty()) return Status::invalid_data("%s: empty file (expected a header row)", source.c_str());
    const std::vector<std::string>& header = rows[0].fields;
    auto column = [&](const char* name) {
        for (size_t i = 0; i < header.size(); ++i)
            if (iequals(header[i], name)) return static_cast<int>(i);
        return -1;
    };
    const int id = column("id"), question = column("question"), answer = column("answer"),
              explanation = column("explanation");
    const int option[4] = {column("A"), column("B"), column("C"), column("D")};
    if (question < 0) return Status::invalid_data("%s:1: header has no 'question' column", source.c_str());
    for (int i = 0; i < 4; ++i)
        if (option[i] < 0) return Status::invalid_data("%s:1: header has no '%c' column", source.c_str(), 'A' + i);
    std::vector<MultipleChoice> items;
    for (size_t r = 1; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        if (row.fields.size() != header.size())
            return Status::invalid_data("%s:%d: %zu fields, the header has %zu", source.c_str(), row.line,
                                        row.fields.size(), header.size());
        MultipleChoice item;
        item.id = id >= 0 ? row.fields[static_cast<size_t>(id)] : std::to_string(r - 1);
        item.question = row.fields[static_cast<size_t>(question)];
        if (item.question.empty()) return Status::invalid_data("%s:%d: empty question", source.c_str(), row.line);
        for (int i = 0; i < 4; ++i) item.options.push_back(row.fields[static_cast<size_t>(option[i])]);
        if (answer >= 0) {
            const std::string& a = row.fields[static_cast<size_t>(answer)];
            if (a.size() == 1 && a[0] >= 'A' && a[0] <= 'D') item.answer = a[0];
            else if (!a.empty())
                return Status::invalid_data("%s:%d: answer '%s' is not one of A, B, C, D", source.c_str(), row.line,
                                            a.c_str());
        }
        if (explanation >= 0) item.explanation = row.fields[static_cast<size_t>(explanation)];
        items.push_back(std::move(item));
    }
    return items;
}

Result<std::vector<MultipleChoice>> load_multiple_choice_csv(const std::string& path) {
    DUET_TRY(std::string text, read_text(path));
    return parse_multiple_choice_csv(text, path);
}

Result<std::vector<CodeTask>> parse_humaneval_jsonl(const std::string& text, const std::string& source) {
    std::vector<CodeTask> tasks;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return Status::invalid_data("%s:%d: not a JSON object", source.c_str(), number);
        CodeTask task;
        const struct {
            const char* key;
            std::string* out;
        } fields[] = {{"task_id", &task.task_id},
                      {"prompt", &task.prompt},
                      {"canonical_solution", &task.canonical_solution},
                      {"test", &task.test},
                      {"entry_point", &task.entry_point}};
        for (const auto& f : fields) {
            auto it = j.find(f.key);
            if (it == j.end() || !it->is_string())
                return Status::invalid_data("%s:%d: missing string field '%s'", source.c_str(), number, f.key);
            *f.out = it->get<std::string>();
        }
        if (task.entry_point.empty() || task.test.find("def check") == std::string::npos)
            return Status::invalid_data("%s:%d: 'test' must define check(candidate) and 'entry_point' name a function",
                                        source.c_str(), number);
        tasks.push_back(std::move(task));
    }
    return tasks;
}

Result<std::vector<CodeTask>> load_humaneval_jsonl(const std::string& path) {
    DUET_TRY(std::string text, read_text(path));
    return parse_humaneval_jsonl(text, path);
}

std::string humaneval_program(const CodeTask& task, const std::string& completion) {
    return task.prompt + completion + "\n\n" + task.test + "\n\ncheck(" + task.entry_point + ")\n";
}

}  // namespace duet::eval
