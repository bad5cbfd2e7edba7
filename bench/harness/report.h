// The run's report: Markdown tables (stdout) from results.json's content, and the issue's
// targets checked against the measured figures (results["targets"]).
//
// Thread-safety: stateless functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mnemo::bench {

// Fills results["targets"]: each issue-7 target with its measured value and met / not met /
// not measured.
void EvaluateTargets(nlohmann::json& results);

// The whole report as Markdown.
std::string MarkdownReport(const nlohmann::json& results);

}  // namespace mnemo::bench
