// ProcessProbe: finds a process by a word of its command line and reads its resident memory and
// open file descriptors from /proc (Linux only).  Used by the soak test to watch mnemod and
// mnemo-rest, which the spawners start without telling their pid.
//
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace mnemo::hardening {

// The pid of a process whose argv[0] ends with `program` and whose command line contains
// `needle` as one argument; -1 when none.
pid_t FindProcess(const std::string& program, const std::string& needle);
// VmRSS in bytes; -1 when unreadable.
int64_t ResidentBytes(pid_t pid);
// Entries of /proc/<pid>/fd (all, or only sockets); -1 when unreadable.  Sockets are what a
// connection leak leaks; the rest grows legitimately as RocksDB opens new table files.
int OpenFileCount(pid_t pid);
int OpenSocketCount(pid_t pid);

}  // namespace mnemo::hardening
