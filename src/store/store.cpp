// store.cpp: opening the data directory's database, a file or a PostgreSQL URL.
#include "store/store.h"

#include "store/data_dir.h"

namespace duet::store {

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir, DatabaseOptions options) {
    DUET_RETURN_IF_ERROR(ensure_data_dir(data_dir));
    return open_file(database_path(data_dir), options);
}

Result<std::unique_ptr<Store>> Store::open_location(const std::string& location, DatabaseOptions options) {
    DUET_TRY(std::unique_ptr<Database> db, Database::open(location, options));
    return std::unique_ptr<Store>(new Store(std::move(db)));
}

}  // namespace duet::store
