# aarch64-linux-gnu.cmake: cross-compile duet for AArch64 Linux on a Debian x86-64 host (the arm64 CI stage in
# duet.sh). Compilers: Debian's g++-aarch64-linux-gnu. Libraries: the cross sysroot /usr/aarch64-linux-gnu (libc,
# libstdc++) plus Debian multiarch arm64 packages (libpcre2-dev:arm64 in /usr/lib/aarch64-linux-gnu); header-only
# packages (nlohmann-json) come from the host. The binaries run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # host tools (ninja, pkg-config)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)    # never link an x86 library
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)    # shared headers live in /usr/include
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)    # nlohmann_json's arch-independent CMake config
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config must see only arm64 .pc files (and arch-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
