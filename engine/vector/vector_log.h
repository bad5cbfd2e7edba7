// VectorLog: the unit vectors of chunks and messages, stored in segment files outside RocksDB.
//
// A vector is a fixed-size record in a segment file ("<dir>/<id>.vseg", id in 8 hex digits);
// the vectors column family maps the row's key (month, label) to a pointer to its record.  The
// 6 MB of float32 in a batch of 1000 1536-d vectors thus never passes through RocksDB's
// write-ahead log, memtable or compactions, which cost more than the disk write itself.
//
// Durability order: a transaction's records are written and synced (fdatasync) before the
// RocksDB batch carrying their pointers is written (WriteTxn::BeforeWrite), so a committed row
// never points at bytes that did not reach disk.  The region a segment's next records go to is
// filled with zeros and synced ahead of them by a background thread, so the sync that makes a
// batch durable writes data blocks only, not file-system metadata (on ext4 that is about 4 ms
// for 6 MB instead of 20).  The thread writes and syncs one piece at a time, each starting at or
// after the append position: an append reaching the piece being written waits for that write
// alone, and one running ahead of the zeros writes its records into unfilled space (the thread
// then continues after them).  Zeros thus never land on a record.  A crash can leave torn or
// unreferenced records at the end of the newest segment: Open() finds the end of its valid records
// (magic, segment id and checksum), zeroes the records after it that are not zero, and appends from
// there.
//
// Early sync: as soon as records are appended, the background thread starts syncing them, while
// the appending transaction goes on staging its other writes (rows, keyword terms); its own sync
// before the batch then finds them durable, or waits for the sync already under way.
// Requests thus wait on this thread (its syncs, and the gate a move holds), so it runs at the
// request threads' CPU priority, not the background threads' lower one.
//
// Record (record_bytes = 32 + 4 * dim, rounded up to 64, so each vector starts on a cache line):
//   0   u32 magic ("MVEC")          4   u32 crc32c of bytes [8, record_bytes)
//   8   u32 segment id              12  u32 month
//   16  u64 label                   24  8 zero bytes
//   32  float32[dim], unit norm, then zero padding
// Pointer (the value under the row's key): u8 format (1) | u32 segment id | u64 byte offset,
// little-endian: 13 bytes, a length no vector value can have (4 * dim).
//
// Inline vectors: while a transaction's vectors take at most inline_max_bytes in all, each is
// stored as the value itself (float32[dim], little-endian), with no record; the ones past that
// budget go to the segments.  An inline vector is as durable as its batch, so a message appended
// with its embedding costs one sync instead of two; the few KB it adds to RocksDB's log cost less
// than a second sync.  Data directories from before the log store every vector that way.  Both
// forms read (Decode); compaction, space accounting and segment removal concern records only.
// Inline vectors do not stay inline: once spill_min_vectors of them have committed (and at open),
// the background thread moves them to the segments (SpillInline: records appended and synced,
// then the values rewritten as pointers, like a compaction's move, with the move listener told),
// so that they too can be read in place instead of held in memory.
//
// Space: each segment counts its live records (committed pointers, and records appended by
// transactions that have not finished).  A segment with none left, other than the one being
// appended to, is removed in the background once the deletes that emptied it are durable and no
// backup is copying segments (Pin).  A segment whose live records fill half of it or less is
// compacted in the background: its live records are copied to the active segment and their
// pointers rewritten, which empties it.
//
// Moves (compaction and spill) copy and sync the records without excluding anyone; only the
// pointer rewrite excludes vector writes: every transaction that stages or reads vectors holds a
// shared gate until it ends, and the move takes it exclusively to re-read the rows' values, keep
// any a transaction changed since the copy (dropping that copy), and commit the others' new
// pointers.  Writers and searches thus wait for a few key lookups and one small write, not for
// the copy's I/O.  That write is not synced: a crash that undoes it leaves the rows on their old
// values, which stay readable (a segment is removed only after a WAL sync has made the moves
// that emptied it durable), and the copies unreferenced; inline rows are queued again at open.
//
// Reading in place: each segment file is also mapped into memory, read-only and shared with the
// page cache, so a search graph can point at the vectors instead of holding copies (Address).  The
// mapping is made with mmap(2) on the file's path, beside the FileSystem the log writes through
// (every FileSystem here stores real files).  Two things change an address: compaction moves a
// record (the move listener hears of each move, with the exclusive gate held, after the pointer
// rewrite committed), and a segment's removal.  A removed segment's mapping is replaced by zero
// pages, never unmapped while the log lives, so a stale address reads zeros instead of faulting;
// the replacement waits for every holder of ReadGate(), so a reader that holds it reads the
// record it resolved.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/file_system.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"

namespace mnemo::vector {

struct VectorPointer {
  uint32_t segment = 0;
  uint64_t offset = 0;
  bool operator==(const VectorPointer&) const = default;
};

inline constexpr size_t kVectorPointerBytes = 13;
std::string EncodeVectorPointer(const VectorPointer& pointer);
// False when `value` is not a pointer (a vector stored before the log, or damage).
bool DecodeVectorPointer(std::string_view value, VectorPointer* pointer);

struct VectorLogOptions {
  std::string dir;
  uint32_t dim = 0;
  // A segment takes records until it holds this many bytes (at least one record).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Zeros kept written and synced this far ahead of the append position; the next segment is
  // prepared when the active one is three quarters full.
  uint64_t fill_ahead_bytes = uint64_t{16} << 20;
  // The zeros are written and synced this many bytes at a time.  An append that reaches the piece
  // being written waits for that write (not its sync, nor the rest of the fill); smaller pieces
  // shorten that wait and cost more syncs.  At least 1.
  uint64_t fill_piece_bytes = uint64_t{1} << 20;
  // Vector bytes a transaction may store inline (see above); 0: none.
  uint64_t inline_max_bytes = uint64_t{64} << 10;
  // Inline vectors moved to the segments once this many have committed since the last move; 0:
  // never moved.
  uint64_t spill_min_vectors = 64;
  // Sync records before the batch pointing at them (EngineOptions::sync_writes).
  bool sync = true;
  // False: the background thread, and with it every move, starts at StartBackground() instead of
  // at Open (for an owner that keeps addresses from Open until it can follow moves).
  bool start_background = true;
  FileSystem* file_system = nullptr;  // null: PosixFileSystem()
  // Told of every vector moved (by compaction, or from inline to the segments), by (month, label)
  // and the vector's new address.  Called
  // on the log's background thread with the exclusive gate held: it must not wait for anything that
  // holds the gate (ReadGate, a transaction staging vectors).
  std::function<void(uint32_t month, uint64_t label, const float* unit)> on_move;
  // Tests: called by a move once its copies are synced, before it takes the gate to rewrite the
  // pointers (a transaction may run meanwhile).
  std::function<void()> on_copied;
};

struct VectorLogStats {
  int64_t segments = 0;
  int64_t live_records = 0;
  int64_t file_bytes = 0;        // the segments' sizes, zero-filled space ahead included
  int64_t removed_segments = 0;  // since open
  int64_t moved_records = 0;     // by compaction, since open
  int64_t fill_waits = 0;        // appends that waited for a piece of zeros, since open
  int64_t early_syncs = 0;       // syncs the background thread started for appends, since open
  int64_t spilled = 0;           // inline vectors moved to the segments, since open
};

class VectorLog {
 public:
  // Opens the log in options.dir (created when missing), recovers the newest segment's end and
  // counts live records from the pointers in `db`.  Errors: UNAVAILABLE for I/O (or a segment
  // that cannot be mapped), INTERNAL for a pointer naming a segment that is missing.
  // `visit`, when given, is told of each stored vector's address in place while the live records
  // are counted (as Address() gives it without check_record), on the opening thread: the owner of
  // the rows learns them without a second scan of the pointers.
  using OpenVisitor = std::function<void(uint32_t month, uint64_t label, const float* unit)>;
  static Result<std::unique_ptr<VectorLog>> Open(storage::Db& db, const VectorLogOptions& options,
                                                 const OpenVisitor& visit = {});
  // Starts the background thread of a log opened with start_background false (once).
  void StartBackground();
  // Ends the background thread after its current step: no vector moves, and on_move is not called,
  // once this returns.  Writes still work; their inline vectors stay inline.  Idempotent.
  void StopBackground();
  ~VectorLog();
  VectorLog(const VectorLog&) = delete;
  VectorLog& operator=(const VectorLog&) = delete;

  uint32_t dim() const { return options_.dim; }
  size_t record_bytes() const { return record_bytes_; }

  struct NewVector {
    uint32_t month = 0;
    uint64_t label = 0;
    const float* unit = nullptr;  // dim floats; unit norm once multiplied by `scale`
    // 1: `unit` is stored as it is.  Otherwise kernels::UnitScale(unit): the log stores the
    // vector kernels::Normalize would make of it, scaling it as it copies it.
    float scale = 1.0f;
  };
  // Appends the vectors' records and stages their pointers in `txn`, or stages the vectors
  // inline when they fit txn's inline budget (inline_max_bytes).  The records are synced before
  // txn's batch is written; when txn does not commit they are released.  `addresses`, when
  // given, gets each vector's address in place (as Address() gives it; null when inline).
  Status StagePut(storage::WriteTxn& txn, std::span<const NewVector> vectors,
                  std::vector<const float*>* addresses = nullptr);
  // Stages the removal of (month, label)'s vector; its record is released when txn commits.
  // OK when none is stored.
  Status StageDelete(storage::WriteTxn& txn, uint32_t month, uint64_t label);
  // The vector of (month, label) as `txn` sees it.  NOT_FOUND when none is stored.
  Status Get(storage::WriteTxn& txn, uint32_t month, uint64_t label, std::vector<float>* unit);
  // The vector a stored value names: read from its record (whose header must name
  // (month, label) and whose checksum must hold), or the value itself for a vector stored
  // before the log.  INTERNAL for a damaged record or value.
  Status Decode(std::string_view value, uint32_t month, uint64_t label,
                std::vector<float>* unit) const;

  // The vector a stored value names, in place: the address of its floats in the segment's
  // mapping.  With `check_record`, only once the record's header there is seen to be
  // (month, label)'s (which reads its page); without, the pointer is trusted (a committed pointer
  // names a synced record).  Null for a vector stored inline (or before the log), or a pointer
  // to no record.  The address stays valid while the log lives (see the header comment
  // for what it reads after a move).
  const float* Address(std::string_view value, uint32_t month, uint64_t label,
                       bool check_record) const;
  // While the returned lock is held, no record moves and no segment's mapping is replaced: an
  // address resolved under it reads its record until the lock is released.
  std::shared_lock<std::shared_mutex> ReadGate() const { return std::shared_lock(gate_); }

  // Keeps every segment file in place, and every record where it is, while the returned guard
  // lives (a backup or an archive reads them).
  std::shared_ptr<void> Pin();
  // Compacts every segment that is at most half live (see above); returns the records moved.
  // The background thread does this by itself after deletes.
  Result<int64_t> Compact();
  // Moves every inline vector committed since open (or found inline at open) to the segments;
  // returns how many moved.  The background thread does this by itself (spill_min_vectors).
  Result<int64_t> SpillInline();
  // Copies the segment files into `dir` (created), durably: files and the entries of `dir` are
  // synced.  REQUIRES: a Pin() guard held from before the pointers being backed up were read.
  Status CopySegments(const std::string& dir) const;

  VectorLogStats Stats() const;
  // Blocks until the background thread has nothing left to do (tests).
  void WaitForBackground();

 private:
  struct Segment;
  VectorLog(storage::Db& db, const VectorLogOptions& options);
  Status Recover();
  Status CountLive(const OpenVisitor& visit);
  std::string SegmentPath(uint32_t id) const;
  // Where `pointer`'s record starts in `segment`'s mapping; null for an offset that cannot hold
  // a record.
  const char* RecordIn(const Segment& segment, const VectorPointer& pointer) const;
  // Creates segment `id`, empty, and makes its entry durable.
  Result<std::shared_ptr<Segment>> CreateSegment(uint32_t id);
  // Maps `segment`'s file (Capacity() bytes).  UNAVAILABLE when that fails.
  Status MapSegment(Segment& segment);
  // Replaces the mapping of a removed segment by zero pages.  REQUIRES: the gate held
  // exclusively.
  void RetireMapping(Segment& segment);
  // Appends `records` (EncodeRecord's, finished here with their segment ids), rolling to the
  // next segment as needed; *pointers gets one per record.
  Status Append(std::string& records, std::vector<VectorPointer>* pointers);
  // Makes every record appended before the call durable; concurrent callers share syncs.
  Status Sync();
  void Release(const VectorPointer& pointer);
  // Takes the shared gate for the rest of txn (once per transaction).
  void EnterGate(storage::WriteTxn& txn);
  uint64_t Capacity() const;
  // True when `segment` is at most half live and not being appended to.  REQUIRES: mu_ held.
  bool Sparse(const Segment& segment) const;
  // Moves the live records of `segment` to the active segment.
  Result<int64_t> CompactSegment(const std::shared_ptr<Segment>& segment);
  // The indexes of the rows whose committed value is still values[i].  REQUIRES: the gate held
  // exclusively (no transaction can change them until it is released).
  Result<std::vector<size_t>> Unchanged(const std::vector<std::string>& row_keys,
                                        const std::vector<std::string>& values);
  // Releases the records of `moved` whose index is not in `used` (ascending).
  void ReleaseUnused(const std::vector<VectorPointer>& moved, const std::vector<size_t>& used);
  std::shared_ptr<Segment> FindSegment(uint32_t id) const;
  void BackgroundLoop();
  // Where the next piece of zeros in active_ starts.  REQUIRES: mu_ held.
  uint64_t FillFrom() const;
  // True when the active or the prepared segment needs zeros ahead, or the active one a
  // successor (or compaction is due).  REQUIRES: mu_ held.
  bool BackgroundDue() const;
  // Appends are not synced yet, and the background thread has not tried to sync them.
  bool EarlySyncDue() const;
  // One piece of background work; releases `lock` (mu_) while it does I/O.
  void BackgroundStep(std::unique_lock<std::mutex>& lock);
  // Writes zeros over [begin, end) of `segment` and syncs them; appends reaching the range wait
  // until the zeros are written.  Releases `lock` (mu_) while it does I/O.
  // REQUIRES: no record at or after `begin` in `segment`.
  Status FillPiece(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Segment>& segment,
                   uint64_t begin, uint64_t end);
  // A record without its segment id, its checksum covering the body only (Append finishes it).
  // Writes a record of unit * scale (scale 1: unit as it is) into out[0, record_bytes_), which
  // holds zeros.
  void EncodeRecord(uint32_t month, uint64_t label, const float* unit, float scale,
                    char* out) const;

  storage::Db& db_;
  const VectorLogOptions options_;
  const size_t record_bytes_;
  FileSystem& fs_;
  const std::string zeros_;  // one piece of zero-fill

  mutable std::shared_mutex segments_mutex_;
  std::map<uint32_t, std::shared_ptr<Segment>> segments_;  // by id

  std::mutex mu_;  // the append position, syncs, background work
  std::shared_ptr<Segment> active_;
  std::shared_ptr<Segment> prepared_;  // the next segment, created ahead
  uint64_t prepared_zeroed_ = 0;       // prepared_ is zero-filled and synced below this
  bool preparing_ = false;             // the background thread is creating the next segment
  uint64_t append_end_ = 0;            // next record's offset in active_
  uint64_t zeroed_end_ = 0;            // active_ is zero-filled and synced below this
  // The piece of zeros being written: [fill_begin_, fill_end_) of fill_segment_ (null: none).
  std::shared_ptr<Segment> fill_segment_;
  uint64_t fill_begin_ = 0;
  uint64_t fill_end_ = 0;
  uint64_t wanted_end_ = 0;  // appends waiting for that piece need active_ up to here
  uint64_t appended_ = 0;    // appends so far
  uint64_t synced_ = 0;      // appends known durable
  bool syncing_ = false;
  uint64_t early_sync_from_ = 0;  // appended_ when the background thread last started a sync
  std::vector<std::shared_ptr<Segment>> unsynced_;  // segments written since their last sync
  std::condition_variable changed_;                 // fills, syncs and background work finished
  std::condition_variable wake_;                    // background work to do
  bool removal_due_ = false;
  int pins_ = 0;
  bool compaction_due_ = false;
  // Inline vectors committed and not moved to the segments yet, by (month, label).
  std::vector<std::pair<uint32_t, uint64_t>> inline_keys_;
  bool spill_due_ = false;
  // Shared: transactions with vector writes, readers of mapped vectors; exclusive: compaction,
  // retiring mappings.
  mutable std::shared_mutex gate_;
  std::mutex maps_mutex_;
  std::vector<std::pair<void*, size_t>> maps_;  // every mapping made, unmapped on destruction
  bool stop_ = false;
  bool background_busy_ = false;
  std::atomic<int64_t> removed_segments_{0};
  std::atomic<int64_t> moved_records_{0};
  std::atomic<int64_t> fill_waits_{0};
  std::atomic<int64_t> early_syncs_{0};
  std::atomic<int64_t> spilled_{0};
  std::thread background_;
};

}  // namespace mnemo::vector
