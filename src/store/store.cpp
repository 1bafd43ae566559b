// store.cpp: opening the data directory's database.
#include "store/store.h"

#include "store/data_dir.h"

namespace duet::store {

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir, DatabaseOptions options) {
    DUET_RETURN_IF_ERROR(ensure_data_dir(data_dir));
    return open_file(database_path(data_dir), options);
}

Result<std::unique_ptr<Store>> Store::open_file(const std::string& path, DatabaseOptions options) {
    DUET_TRY(std::unique_ptr<Database> db, Database::open(path, options));
    return std::unique_ptr<Store>(new Store(std::move(db)));
}

}  // namespace duet::store
