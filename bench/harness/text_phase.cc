#include "text_phase.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "latency.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "wire_vector.h"

namespace mnemo::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace mc = mnemo::client;

constexpr size_t kChunkTarget = 600;    // bytes: a chunk ends at the first space past this
constexpr size_t kChunkMax = 800;       // bytes: or here, at a character boundary
constexpr size_t kChunkMin = 40;        // shorter pieces are dropped
constexpr size_t kBatch = 1000;         // chunks per durable AddChunks batch
constexpr size_t kCompareBatches = 20;  // batches alternating between keyword search off and on
constexpr double kLinkWaitS = 30;       // longest wait for the other server's graph linking
constexpr double kStartTimeoutS = 120;
constexpr const char* kUser = "kb";

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return false;
    for (size_t j = 1; j < n; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Cuts `text` (whitespace already collapsed) into chunks appended to *out, up to `limit` in all.
void Chunk(const std::string& text, size_t limit, std::vector<std::string>* out) {
  size_t begin = 0;
  while (begin < text.size() && out->size() < limit) {
    size_t end = std::min(text.size(), begin + kChunkTarget);
    if (end < text.size()) {
      const size_t space = text.find(' ', end);
      if (space != std::string::npos && space - begin <= kChunkMax) {
        end = space;
      } else {
        end = std::min(text.size(), begin + kChunkMax);
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
      }
    }
    std::string piece = text.substr(begin, end - begin);
    begin = end;
    while (begin < text.size() && text[begin] == ' ') ++begin;
    if (piece.size() >= kChunkMin && ValidUtf8(piece)) out->push_back(std::move(piece));
  }
}

// Appends `line` to *text with runs of white space collapsed to one space.
void AppendCollapsed(std::string_view line, std::string* text) {
  for (const char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      if (!text->empty() && text->back() != ' ') text->push_back(' ');
    } else {
      text->push_back(c);
    }
  }
  if (!text->empty() && text->back() != ' ') text->push_back(' ');
}

// One line of roff source as plain text: requests are dropped except those that carry text
// (headings, fonts), escapes are removed.
std::string RoffLine(const std::string& line) {
  std::string body = line;
  if (!body.empty() && (body[0] == '.' || body[0] == '\'')) {
    static const std::set<std::string> kTextMacros = {"SH", "SS", "B",  "I",  "BR", "IR",
                                                      "BI", "IB", "RB", "RI", "TP", "IP"};
    const size_t space = body.find(' ');
    const std::string macro =
        body.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    if (!kTextMacros.contains(macro) || space == std::string::npos) return "";
    body = body.substr(space + 1);
  }
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '"') continue;
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out.push_back(body[i]);
      continue;
    }
    const char e = body[++i];
    if (e == 'f' || e == 's') {  // font or size: \fB, \f(XX, \f[..], \s+1
      if (i + 1 < body.size() && body[i + 1] == '(')
        i += 3;
      else if (i + 1 < body.size() && body[i + 1] == '[')
        i = body.find(']', i);
      else
        i += 1;
      if (i == std::string::npos) break;
    } else if (e == '(') {
      i += 2;
      out.push_back(' ');
    } else if (e == '*') {
      if (i + 1 < body.size() && body[i + 1] == '(')
        i += 3;
      else
        i += 1;
    } else if (e == '-' || e == 'e' || e == ' ') {
      out.push_back(e == 'e' ? '\\' : e);
    }
  }
  return out;
}

bool ReadCommand(const std::string& command,
                 const std::function<void(const std::string&)>& line_fn) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  char buffer[8192];
  std::string line;
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    line += buffer;
    if (line.back() != '\n') continue;
    line.pop_back();
    line_fn(line);
    line.clear();
  }
  if (!line.empty()) line_fn(line);
  return ::pclose(pipe) == 0;
}

// Man pages under `dir` (man1..man8), as chunks, until *out holds `limit`.
void ManPages(const std::string& dir, size_t limit, std::vector<std::string>* out) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (int section = 1; section <= 8; ++section) {
    const fs::path sub = fs::path(dir) / ("man" + std::to_string(section));
    for (fs::directory_iterator it(sub, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file()) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    if (out->size() >= limit) return;
    std::string text;
    ReadCommand("zcat -f '" + file.string() + "' 2>/dev/null",
                [&](const std::string& line) { AppendCollapsed(RoffLine(line), &text); });
    Chunk(text, limit, out);
  }
}

// Package descriptions from `apt-cache dumpavail`, each once, as chunks, until *out holds `limit`.
void PackageDescriptions(size_t limit, std::vector<std::string>* out) {
  std::unordered_set<std::string> seen;
  std::string package;
  std::string text;
  bool in_description = false;
  const auto flush = [&] {
    if (!text.empty() && seen.insert(text).second && out->size() < limit)
      Chunk(package + ": " + text, limit, out);
    text.clear();
  };
  ReadCommand("apt-cache dumpavail 2>/dev/null", [&](const std::string& line) {
    if (line.rfind("Package: ", 0) == 0) {
      flush();
      package = line.substr(9);
      in_description = false;
    } else if (line.rfind("Description: ", 0) == 0) {
      in_description = true;
      AppendCollapsed(line.substr(13), &text);
    } else if (in_description && !line.empty() && line[0] == ' ') {
      if (line != " .") AppendCollapsed(line, &text);
    } else {
      in_description = false;
    }
  });
  flush();
}

// ---- query terms ----------------------------------------------------------------------------

struct Bands {
  std::map<std::string, std::vector<std::string>> terms;  // band -> query terms
};

bool IsHan(char32_t c) { return c >= 0x4E00 && c <= 0x9FFF; }

// Decodes the code points of valid UTF-8 `s`.
std::vector<std::pair<char32_t, size_t>> CodePoints(const std::string& s) {
  std::vector<std::pair<char32_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t j = 1; j < n && i + j < s.size(); ++j)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3F);
    out.emplace_back(cp, i);
    i += n;
  }
  return out;
}

// Picks up to `per_band` terms per band by how many chunks hold them.
Bands PickTerms(const std::vector<std::string>& chunks, size_t per_band) {
  static const std::unordered_set<std::string> kStop = {
      "that", "with", "this", "their", "then", "there", "these", "they", "will", "into", "such"};
  std::unordered_map<std::string, size_t> df;
  for (const std::string& chunk : chunks) {
    std::unordered_set<std::string> seen;
    std::string word;
    for (size_t i = 0; i <= chunk.size(); ++i) {
      const char c = i < chunk.size() ? chunk[i] : ' ';
      if (c >= 'a' && c <= 'z') {
        word.push_back(c);
      } else if (c >= 'A' && c <= 'Z') {
        word.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        const bool bounded = !(c >= '0' && c <= '9') && c != '_';
        if (bounded && word.size() >= 4 && word.size() <= 12 && !kStop.contains(word))
          seen.insert(word);
        word.clear();
      }
    }
    const auto points = CodePoints(chunk);
    for (size_t i = 0; i + 1 < points.size(); ++i) {
      if (IsHan(points[i].first) && IsHan(points[i + 1].first)) {
        const size_t end = i + 2 < points.size() ? points[i + 2].second : chunk.size();
        seen.insert(chunk.substr(points[i].second, end - points[i].second));
      }
    }
    for (const std::string& term : seen) ++df[term];
  }
  const double n = static_cast<double>(chunks.size());
  std::map<std::string, std::vector<std::pair<size_t, std::string>>> candidates;
  for (const auto& [term, count] : df) {
    const double share = static_cast<double>(count) / n;
    const bool han = static_cast<unsigned char>(term[0]) >= 0x80;
    if (han) {
      if (share >= 0.001 && share <= 0.05) candidates["chinese"].emplace_back(count, term);
    } else if (share > 0.05) {
      candidates["frequent"].emplace_back(count, term);
    } else if (share >= 0.001 && share <= 0.01) {
      candidates["medium"].emplace_back(count, term);
    } else if (count >= 2 && count <= 10) {
      candidates["rare"].emplace_back(count, term);
    }
  }
  Bands bands;
  for (auto& [band, list] : candidates) {
    std::sort(list.begin(), list.end());
    // An even spread over the band's terms, then repeated when it holds fewer than asked.
    std::vector<std::string>& chosen = bands.terms[band];
    const size_t step = std::max<size_t>(1, list.size() / std::max<size_t>(1, per_band));
    for (size_t i = 0; i < list.size() && chosen.size() < per_band; i += step)
      chosen.push_back(list[i].second);
    for (size_t i = 0; !chosen.empty() && chosen.size() < per_band; ++i)
      chosen.push_back(chosen[i]);
  }
  return bands;
}

std::unique_ptr<mc::Client> Connect(uint16_t port, std::string* error) {
  mc::ClientOptions options;
  options.port = port;
  options.pool_size = 1;
  options.client_name = "mnemo-bench-text";
  auto client = mc::Client::Connect(options);
  if (!client.ok()) {
    *error = client.error().ToString();
    return nullptr;
  }
  return std::move(client).value();
}

// Writes chunks [begin, end) as one durable batch into a new document; returns seconds or -1.
double WriteBatch(mc::Client& client, const std::vector<std::string>& chunks, const Dataset& data,
                  size_t begin, size_t end, std::string* error) {
  mc::NewDocument document;
  document.filename = "debian-" + std::to_string(begin / kBatch) + ".txt";
  document.file_type = "txt";
  auto created = client.CreateDocument(kUser, document);
  if (!created.ok()) {
    *error = created.error().ToString();
    return -1;
  }
  std::vector<mc::NewChunk> batch;
  batch.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    mc::NewChunk chunk;
    chunk.document_id = created->id;
    chunk.chunk_index = static_cast<int64_t>(i - begin);
    chunk.chunk_text = chunks[i];
    const auto row = data.Row(i % data.size());
    chunk.embedding.assign(row.begin(), row.end());
    batch.push_back(std::move(chunk));
  }
  const double start = NowSeconds();
  auto added = client.AddChunks(kUser, batch);
  const double seconds = NowSeconds() - start;
  if (!added.ok()) {
    *error = added.error().ToString();
    return -1;
  }
  return seconds;
}

json LatencyJson(std::vector<double> seconds) { return ToJson(Summarize(std::move(seconds))); }

}  // namespace

bool LoadTextCorpus(size_t count, const std::string& cache_dir, std::vector<std::string>* chunks,
                    std::string* error) {
  const std::string path = cache_dir + "/text-corpus-v1-" + std::to_string(count) + ".txt";
  chunks->clear();
  if (std::ifstream cached(path); cached) {
    for (std::string line; std::getline(cached, line);) chunks->push_back(line);
    if (!chunks->empty()) return true;
  }
  // Chinese man pages up to 15% of the chunks, English ones up to 35%, package descriptions for
  // the rest, then more English man pages if the descriptions run out.
  std::vector<std::string> chinese;
  ManPages("/usr/share/man/zh_CN", count * 15 / 100, &chinese);
  std::vector<std::string> english;
  ManPages("/usr/share/man", count * 35 / 100, &english);
  std::vector<std::string> descriptions;
  PackageDescriptions(count - chinese.size() - english.size(), &descriptions);
  const size_t short_by = count - chinese.size() - english.size() - descriptions.size();
  if (short_by > 0) {
    english.clear();
    ManPages("/usr/share/man", count - chinese.size() - descriptions.size(), &english);
  }
  for (auto* part : {&chinese, &english, &descriptions}) {
    chunks->insert(chunks->end(), std::make_move_iterator(part->begin()),
                   std::make_move_iterator(part->end()));
  }
  if (chunks->empty()) {
    *error = "no text found (apt-cache dumpavail, /usr/share/man): install manpages, manpages-zh";
    return false;
  }
  std::mt19937_64 rng(7);
  std::shuffle(chunks->begin(), chunks->end(), rng);
  std::error_code ignored;
  fs::create_directories(cache_dir, ignored);
  std::ofstream out(path + ".tmp");
  for (const std::string& chunk : *chunks) out << chunk << '\n';
  out.close();
  fs::rename(path + ".tmp", path, ignored);
  return true;
}

json RunTextPhase(const TextPhaseInput& input) {
  const BenchOptions& options = *input.options;
  const Dataset& data = input.bench->data;
  json result;
  std::vector<std::string> chunks;
  std::string error;
  {
    Progress progress("text: corpus from Debian's package descriptions and man pages", 1);
    if (!LoadTextCorpus(options.text_chunks, input.cache_dir, &chunks, &error))
      return {{"error", error}};
    progress.Advance();
  }
  size_t text_bytes = 0;
  size_t han_chunks = 0;
  for (const std::string& chunk : chunks) {
    text_bytes += chunk.size();
    const auto points = CodePoints(chunk);
    if (std::any_of(points.begin(), points.end(), [](const auto& p) { return IsHan(p.first); }))
      ++han_chunks;
  }
  result["corpus"] = {{"chunks", chunks.size()},
                      {"chunk_text_bytes", text_bytes},
                      {"chunks_with_chinese", han_chunks}};

  fs::create_directories(input.work_dir + "/on");
  fs::create_directories(input.work_dir + "/off");
  MnemodProcess on(input.mnemod_binary, input.work_dir + "/on", data.dim, *input.options);
  MnemodProcess off(input.mnemod_binary, input.work_dir + "/off", data.dim, *input.options);
  off.set_extra_args({"--keyword-search", "false"});
  if (!on.Start(kStartTimeoutS, &error) || !off.Start(kStartTimeoutS, &error))
    return {{"error", error}};
  auto client_on = Connect(on.port(), &error);
  auto client_off = client_on ? Connect(off.port(), &error) : nullptr;
  if (!client_off) return {{"error", error}};

  // Ingest: the first batches alternate between keyword search off and on.  Before each compared
  // batch the other server finishes linking its graph: in production one server runs, and its own
  // background linking is all a batch competes with, whereas two servers' linking at once would
  // take both cores and stretch the CPU work of whichever batch carries more of it.
  const size_t batches = (chunks.size() + kBatch - 1) / kBatch;
  const size_t compare = std::min(kCompareBatches, batches);
  std::vector<double> on_seconds;
  std::vector<double> off_seconds;
  {
    Progress progress("text: ingest (durable batches of 1000 chunks)", batches + compare);
    for (size_t b = 0; b < batches && !input.budget->Expired(); ++b) {
      const size_t begin = b * kBatch;
      const size_t end = std::min(chunks.size(), begin + kBatch);
      if (b < compare && b % 2 == 0) {
        WaitUntilIndexed(*client_on, *input.budget, kLinkWaitS);
        const double s = WriteBatch(*client_off, chunks, data, begin, end, &error);
        if (s < 0) return {{"error", "keyword search off: " + error}};
        off_seconds.push_back(s);
        progress.Advance();
      }
      if (b < compare) WaitUntilIndexed(*client_off, *input.budget, kLinkWaitS);
      const double s = WriteBatch(*client_on, chunks, data, begin, end, &error);
      if (s < 0) return {{"error", error}};
      on_seconds.push_back(s);
      progress.Advance();
      if (b < compare && b % 2 == 1) {
        WaitUntilIndexed(*client_on, *input.budget, kLinkWaitS);
        const double t = WriteBatch(*client_off, chunks, data, begin, end, &error);
        if (t < 0) return {{"error", "keyword search off: " + error}};
        off_seconds.push_back(t);
        progress.Advance();
      }
    }
  }
  client_off.reset();
  off.Stop();
  const std::vector<double> on_compared(on_seconds.begin(),
                                        on_seconds.begin() + std::min(compare, on_seconds.size()));
  const LatencySummary on_summary = Summarize(on_compared);
  const LatencySummary off_summary = Summarize(off_seconds);
  double on_total = 0;
  for (const double s : on_seconds) on_total += s;
  const size_t ingested = std::min(chunks.size(), on_seconds.size() * kBatch);
  result["ingest"] = {
      {"chunks", ingested},
      {"batches", on_seconds.size()},
      {"chunks_per_s", on_total > 0 ? static_cast<double>(ingested) / on_total : 0.0},
      {"batch_latency", ToJson(Summarize(on_seconds))},
      {"compared_batches", off_seconds.size()},
      {"compared_on", ToJson(on_summary)},
      {"compared_off", ToJson(off_summary)},
      {"added_share", off_summary.p50_ms > 0 ? on_summary.p50_ms / off_summary.p50_ms - 1 : 0.0},
      {"indexing_chunks_per_s", on_summary.p50_ms > off_summary.p50_ms
                                    ? 1000.0 * kBatch / (on_summary.p50_ms - off_summary.p50_ms)
                                    : 0.0}};

  auto stats = client_on->GetStats();
  if (stats.ok() && stats->text) {
    const mc::TextIndexInfo& info = *stats->text;
    size_t ingested_bytes = 0;
    for (size_t i = 0; i < ingested; ++i) ingested_bytes += chunks[i].size();
    result["index"] = {{"rows", info.rows},
                       {"terms", info.terms},
                       {"postings", info.postings},
                       {"stored_bytes", info.stored_bytes},
                       {"memory_bytes", info.memory_bytes},
                       {"chunk_text_bytes", ingested_bytes},
                       {"stored_share", static_cast<double>(info.stored_bytes) /
                                            static_cast<double>(ingested_bytes)},
                       {"memory_share", static_cast<double>(info.memory_bytes) /
                                            static_cast<double>(ingested_bytes)}};
  }

  // Queries run once every row is linked into its graph, as in the vector phases (the vector leg
  // of hybrid search would otherwise scan unlinked rows exactly).
  {
    Progress progress("text: waiting for the vector index", 1);
    const double waited = WaitUntilIndexed(*client_on, *input.budget, 3600);
    result["ingest"]["indexed_after_s"] = waited;
    progress.Advance();
  }

  // Keyword queries by band, then hybrid.
  const std::vector<std::string> ingested_chunks(
      chunks.begin(), chunks.begin() + static_cast<std::ptrdiff_t>(ingested));
  const Bands bands = PickTerms(ingested_chunks, options.text_queries);
  result["queries"] = json::object();
  for (const auto& [band, terms] : bands.terms) {
    if (input.budget->Expired()) break;
    Progress progress("text: keyword queries, " + band + " terms", terms.size());
    std::vector<double> seconds;
    double postings = 0;
    double scored = 0;
    double hits = 0;
    for (const std::string& term : terms) {
      mc::TextSearchRequest request;
      request.query = term;
      request.top_k = static_cast<int64_t>(options.k);
      const double start = NowSeconds();
      auto answer = client_on->SearchText(kUser, request);
      seconds.push_back(NowSeconds() - start);
      if (!answer.ok()) return {{"error", "keyword search: " + answer.error().ToString()}};
      postings += static_cast<double>(answer->text.postings);
      scored += static_cast<double>(answer->text.rows_scored);
      hits += static_cast<double>(answer->hits.size());
      progress.Advance();
    }
    const double n = static_cast<double>(terms.size());
    result["queries"][band] = {{"latency", LatencyJson(seconds)},
                               {"mean_postings", postings / n},
                               {"mean_rows_scored", scored / n},
                               {"mean_hits", hits / n},
                               {"example", terms.front()}};
  }
  if (bands.terms.contains("medium") && !input.budget->Expired()) {
    const std::vector<std::string>& terms = bands.terms.at("medium");
    Progress progress("text: hybrid queries (RRF), and their vector leg alone", terms.size());
    std::vector<double> seconds;
    std::vector<double> vector_seconds;
    for (size_t i = 0; i < terms.size(); ++i) {
      mc::HybridSearchRequest request;
      request.query_text = terms[i];
      const auto query = data.Query(i % data.query_count());
      request.query_embedding.assign(query.begin(), query.end());
      request.top_k = static_cast<int64_t>(options.k);
      const double start = NowSeconds();
      auto answer = client_on->SearchHybrid(kUser, request);
      seconds.push_back(NowSeconds() - start);
      if (!answer.ok()) return {{"error", "hybrid search: " + answer.error().ToString()}};
      // The same vector search as the hybrid's vector leg (top 50, default ef), on its own.
      mc::SearchRequest vector;
      vector.query = request.query_embedding;
      vector.top_k = 50;
      const double vector_start = NowSeconds();
      auto vector_answer = client_on->Search(kUser, vector);
      vector_seconds.push_back(NowSeconds() - vector_start);
      if (!vector_answer.ok())
        return {{"error", "vector search: " + vector_answer.error().ToString()}};
      progress.Advance();
    }
    result["hybrid"] = {{"latency", LatencyJson(seconds)},
                        {"vector_leg_alone", LatencyJson(vector_seconds)},
                        {"candidates_per_leg", 50}};
  }
  client_on.reset();
  on.Stop();
  return result;
}

void TextSection(const json& text, std::ostringstream& out) {
  const auto num = [](const json& node, const char* key) {
    return node.contains(key) ? node[key].get<double>() : 0.0;
  };
  const auto fmt = [](const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return std::string(buffer);
  };
  out << "## Keyword and hybrid search (Debian's text, over the wire, 1 client thread)\n\n";
  if (text.contains("error")) {
    out << "Not measured: " << text["error"].get<std::string>() << "\n\n";
    return;
  }
  const json& corpus = text["corpus"];
  out << corpus["chunks"].get<size_t>() << " chunks ("
      << fmt("%.1f", num(corpus, "chunk_text_bytes") / 1e6) << " MB of chunk_text, "
      << corpus["chunks_with_chinese"].get<size_t>()
      << " with Chinese) from package descriptions and man pages (manpages, manpages-zh).\n\n";
  if (text.contains("ingest")) {
    const json& ingest = text["ingest"];
    out << "| ingest | chunks/s | batch p50 ms, keyword on | batch p50 ms, off | added to a batch "
           "| indexing chunks/s |\n"
        << "|---|---|---|---|---|---|\n"
        << "| " << ingest["chunks"].get<size_t>() << " chunks, "
        << ingest["compared_batches"].get<size_t>() << " batches compared | "
        << fmt("%.0f", num(ingest, "chunks_per_s")) << " | "
        << fmt("%.1f", num(ingest["compared_on"], "p50_ms")) << " | "
        << fmt("%.1f", num(ingest["compared_off"], "p50_ms")) << " | "
        << fmt("%+.1f%%", 100 * num(ingest, "added_share")) << " | "
        << fmt("%.0f", num(ingest, "indexing_chunks_per_s")) << " |\n\n";
  }
  if (text.contains("index")) {
    const json& index = text["index"];
    out << "Index: " << index["terms"].get<int64_t>() << " terms, "
        << index["postings"].get<int64_t>() << " postings; stored "
        << fmt("%.1f MB", num(index, "stored_bytes") / 1e6) << " ("
        << fmt("%.0f%%", 100 * num(index, "stored_share"))
        << " of chunk_text, before RocksDB compression), in memory "
        << fmt("%.1f MB", num(index, "memory_bytes") / 1e6) << " ("
        << fmt("%.0f%%", 100 * num(index, "memory_share")) << ").\n\n";
  }
  out << "| query | example | p50 ms | p99 ms | postings | rows scored | hits "
         "|\n|---|---|---|---|---|---|---|\n";
  for (const char* band : {"rare", "medium", "frequent", "chinese"}) {
    if (!text["queries"].contains(band)) continue;
    const json& q = text["queries"][band];
    out << "| keyword, " << band << " | " << q["example"].get<std::string>() << " | "
        << fmt("%.3f", num(q["latency"], "p50_ms")) << " | "
        << fmt("%.3f", num(q["latency"], "p99_ms")) << " | " << fmt("%.0f", num(q, "mean_postings"))
        << " | " << fmt("%.0f", num(q, "mean_rows_scored")) << " | "
        << fmt("%.1f", num(q, "mean_hits")) << " |\n";
  }
  if (text.contains("hybrid")) {
    const json& h = text["hybrid"];
    out << "| hybrid (RRF), medium term + vector | | " << fmt("%.3f", num(h["latency"], "p50_ms"))
        << " | " << fmt("%.3f", num(h["latency"], "p99_ms")) << " | | | |\n";
    out << "| its vector leg alone (top 50) | | "
        << fmt("%.3f", num(h["vector_leg_alone"], "p50_ms")) << " | "
        << fmt("%.3f", num(h["vector_leg_alone"], "p99_ms")) << " | | | |\n";
  }
  out << "\n";
}

}  // namespace mnemo::bench
