# Cross-compiling for 32-bit ARM (Debian's gcc-arm-linux-gnueabihf); tests run under pyemu-arm.
set(CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CROSS_EMULATOR pyemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux.cmake)
