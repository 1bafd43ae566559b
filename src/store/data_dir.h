// data_dir.h: where duet keeps its data (`--data-dir DIR`): the flag when given, else $XDG_DATA_HOME/duet when
// XDG_DATA_HOME is an absolute path (the XDG base directory spec ignores relative ones), else
// $HOME/.local/share/duet. The SQLite file is DIR/duet.db.
#pragma once

#include <string>

#include "common/status.h"

namespace duet::store {

// The directory to use; `xdg_data_home` / `home` are the environment's values (nullptr when unset).
Result<std::string> resolve_data_dir(const std::string& flag, const char* xdg_data_home, const char* home);
// Same, reading XDG_DATA_HOME and HOME from the environment.
Result<std::string> resolve_data_dir(const std::string& flag);

// Creates DIR and its parents (mode 0700 for what it creates); an existing non-directory is an error.
Status ensure_data_dir(const std::string& dir);

// DIR/duet.db
std::string database_path(const std::string& dir);

}  // namespace duet::store
