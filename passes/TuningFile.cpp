//===- TuningFile.cpp - measured schedules, by op and target --------------===//
#include "passes/TuningFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::attn {

static constexpr const char *kFormat = "attnc-tuning-1";

std::optional<TuningFile> TuningFile::load(const std::string &path,
                                           std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read the tuning file '" + path +
            "': " + buffer.getError().message();
    return std::nullopt;
  }
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse((*buffer)->getBuffer());
  if (!parsed) {
    error = "the tuning file '" + path +
            "' is not JSON: " + llvm::toString(parsed.takeError());
    return std::nullopt;
  }
  TuningFile file;
  const llvm::json::Object *top = parsed->getAsObject();
  std::optional<llvm::StringRef> format =
      top ? top->getString("format") : std::nullopt;
  const llvm::json::Array *items = top ? top->getArray("entries") : nullptr;
  if (!format || *format != kFormat || !items) {
    error = "the tuning file '" + path + "' is not an attnc tuning file "
            "(expected {\"format\": \"" + kFormat + "\", \"entries\": [...]})";
    return std::nullopt;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const llvm::json::Object *item = (*items)[i].getAsObject();
    auto text = [&](llvm::StringRef key) {
      return item ? item->getString(key) : std::nullopt;
    };
    std::optional<llvm::StringRef> target = text("target"), op = text("op"),
                                   schedule = text("schedule");
    if (!target || !op || !schedule) {
      error = "the tuning file '" + path + "': entry " + std::to_string(i) +
              " needs the strings \"target\", \"op\" and \"schedule\"";
      return std::nullopt;
    }
    TuningEntry entry{target->str(), op->str(), schedule->str()};
    entry.ms = item->getNumber("ms").value_or(0);
    entry.heuristicMs = item->getNumber("heuristic_ms").value_or(0);
    file.entries.push_back(entry);
  }
  return file;
}

const TuningEntry *TuningFile::lookup(const std::string &target,
                                      const std::string &op) const {
  for (const TuningEntry &entry : entries)
    if (entry.target == target && entry.op == op)
      return &entry;
  return nullptr;
}

void TuningFile::set(const TuningEntry &entry) {
  for (TuningEntry &existing : entries)
    if (existing.target == entry.target && existing.op == entry.op) {
      existing = entry;
      return;
    }
  entries.push_back(entry);
}

std::string TuningFile::save(const std::string &path) const {
  llvm::json::Array items;
  for (const TuningEntry &e : entries)
    items.push_back(llvm::json::Object{{"target", e.target},
                                       {"op", e.op},
                                       {"schedule", e.schedule},
                                       {"ms", e.ms},
                                       {"heuristic_ms", e.heuristicMs}});
  llvm::json::Value value(llvm::json::Object{
      {"format", kFormat}, {"entries", std::move(items)}});
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return "cannot write the tuning file '" + path + "': " + ec.message();
  os << llvm::formatv("{0:2}", value) << "\n";
  return "";
}

} // namespace mlir::attn
