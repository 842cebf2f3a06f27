// A SQLite VFS over the default one that gathers what a commit appends to the WAL into two writes.
//
// SQLite writes every WAL frame with two write calls, its 24-byte header and then its page: a commit of
// 17 pages (a typical SMPP message: the row and its index entries) made 35 pwrite calls, which on a
// virtual machine took about a fifth of the store writer's time. Through this VFS, the frames of a
// commit are copied into a buffer, written with one call when the commit frame's header arrives, and
// that frame's page follows with a second; the commit then fails, as before, when either write does.
// Reads, syncs, truncation and size queries of the WAL, and any write elsewhere in the file, write the
// buffer out first, so the file always reads as if every write had gone through at once. Only the WAL
// is buffered: the database file and the rollback journal go straight through.
//
// A commit frame is one whose header carries the database size (bytes 4-7, zero in all other frames;
// see the WAL format in SQLite's file format document). Should a SQLite version ever write frames
// differently so that the commit frame goes unseen, the buffer is still written out before the commit
// becomes visible to other connections (at the shared-memory barrier that publishes it); a failure of
// that write cannot be reported to SQLite any more, and ends the process before anything is
// acknowledged, which WAL recovery then treats as a commit that never happened.
#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace cpmgw::store {

// Registers the VFS on first use (not as the default) and returns its name, for sqlite3_open_v2.
const char* walGatheringVfs();

// What the VFS did on the connection `db` so far (all zero when `db` does not use it).
struct WalGatheringStats {
  std::uint64_t writes = 0;          // write calls made to the WAL
  std::uint64_t gatheredWrites = 0;  // write calls SQLite made to the WAL
  std::uint64_t lateWrites = 0;      // buffers written out at the barrier: commit frame not recognised
};
WalGatheringStats walGatheringStats(sqlite3* db);

}  // namespace cpmgw::store
