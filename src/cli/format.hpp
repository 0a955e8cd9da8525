// Output as docker prints it: --format with "json", "table", or a Go
// template's common subset ({{.Field}}, {{.A.B}}, {{json .Field}},
// {{json .}}, "table" prefix, \t and \n escapes); human sizes and ages.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace berth::cli {

// A row's fields rendered by a template ({{.ID}}: row["ID"]). Strings print
// bare, arrays Go-style "[a b]", objects as map[k:v], null as <nil>.
Result<std::string> render(const std::string &tmpl, const nlohmann::json &row);

// Prints rows: format "" or "table" -> default_table; "json" -> one JSON
// object per line; "table TEMPLATE" -> a header (the field names, or
// headers[field]) then aligned columns; else the template, one line per row.
Result<> print_rows(const std::vector<nlohmann::json> &rows, const std::string &format,
                    const std::string &default_table, const nlohmann::json &headers);

// 4261375 -> "4.26MB" (decimal units, 3 significant digits, as docker).
std::string human_size(uint64_t bytes);
// "2 weeks ago", "About an hour ago" (docker's HumanDuration + " ago").
std::string human_since(std::time_t then, std::time_t now);
// "2024-01-02T03:04:05Z" (or with fraction/offset) -> time_t; 0 if invalid.
std::time_t parse_rfc3339(const std::string &s);

} // namespace berth::cli
