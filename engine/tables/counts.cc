#include "tables/counts.h"

namespace mnemo::tables {
namespace {

Result<Counts> DecodeFound(const Status& status, const std::string& value) {
  Counts counts;
  if (status.IsNotFound()) return counts;
  MNEMO_RETURN_IF_ERROR(status);
  MNEMO_RETURN_IF_ERROR(DecodeCounts(value, &counts));
  return counts;
}

}  // namespace

Result<Counts> LoadCounts(const storage::WriteTxn& txn, const std::string& key) {
  std::string value;
  Status status = txn.Get(storage::Cf::kIndex, key, &value);
  return DecodeFound(status, value);
}

Result<Counts> ReadCounts(const storage::ReadView& view, const std::string& key) {
  std::string value;
  Status status = view.Get(storage::Cf::kIndex, key, &value);
  return DecodeFound(status, value);
}

}  // namespace mnemo::tables
