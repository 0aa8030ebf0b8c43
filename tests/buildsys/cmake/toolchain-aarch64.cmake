# Cross-compiling for AArch64 (Debian's gcc-aarch64-linux-gnu); tests run under pyemu-aarch64.
set(CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CROSS_EMULATOR pyemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux.cmake)
