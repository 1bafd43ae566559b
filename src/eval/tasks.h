// tasks.h: standard tasks read from the public layouts: multiple choice in the C-Eval / CMMLU CSV layout and code
// tasks in the HumanEval JSONL layout. duet ships small samples it wrote itself (evals/); point the loaders at the
// official files for real runs. Errors name the file, the line and the reason.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace duet::eval {

// C-Eval layout: header "id,question,A,B,C,D,answer[,explanation]" (CMMLU's "Question,A,B,C,D,Answer" without id
// is read too: header names are matched case-insensitively, `id` defaults to the row number). `answer` is one of
// A-D, or empty in test splits.
struct MultipleChoice {
    std::string id;
    std::string question;
    std::vector<std::string> options;  // A, B, C, D
    char answer = 0;                   // 'A'..'D', or 0 when unknown
    std::string explanation;
};

// HumanEval layout: one JSON object per line with task_id, prompt, canonical_solution, test, entry_point.
struct CodeTask {
    std::string task_id;
    std::string prompt;
    std::string canonical_solution;
    std::string test;         // defines check(candidate)
    std::string entry_point;  // the function under test
};

// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. `line` of each row is where it starts.
struct CsvRow {
    int line = 0;
    std::vector<std::string> fields;
};
Result<std::vector<CsvRow>> parse_csv(const std::string& text, const std::string& source);

Result<std::vector<MultipleChoice>> parse_multiple_choice_csv(const std::string& text, const std::string& source);
Result<std::vector<MultipleChoice>> load_multiple_choice_csv(const std::string& path);

Result<std::vector<CodeTask>> parse_humaneval_jsonl(const std::string& text, const std::string& source);
Result<std::vector<CodeTask>> load_humaneval_jsonl(const std::string& path);

// The program the sandbox runs: prompt + completion, the task's tests, then check(entry_point).
std::string humaneval_program(const CodeTask& task, const std::string& completion);

}  // namespace duet::eval
