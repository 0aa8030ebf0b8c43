"""Struct declarations of the Linux syscall ABIs, written once (see ``structs.py`` for the types).

Sources: include/uapi/linux/{stat,time_types,utsname,uio,resource,sysinfo,termios}.h,
include/uapi/asm-generic/{stat,termbits}.h, arch/arm/include/uapi/asm/{stat,signal}.h,
arch/mips/include/uapi/asm/{stat,signal,termbits}.h. ``tests/test_layouts.py`` checks every
declaration against the cross compilers' view of those headers.
"""
from __future__ import annotations

Decl = list[tuple[str, str]]


def _statx_timestamp(prefix: str) -> Decl:
    return [(f"{prefix}_sec", "i64"), (f"{prefix}_nsec", "u32"), (f"{prefix}_res", "i32")]


_STATFS_TAIL = [("f_fsid", "i32[2]"), ("f_namelen", "long"), ("f_frsize", "long"),
                ("f_flags", "long"), ("f_spare", "long[4]")]
# asm-generic/statfs.h (__statfs_word is the word); also the host's layout on 64-bit hosts.
GENERIC_STATFS = ([("f_type", "long"), ("f_bsize", "long")]
                  + [(f, "long") for f in ("f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")]
                  + _STATFS_TAIL)
GENERIC_STATFS64 = ([("f_type", "long"), ("f_bsize", "long")]
                    + [(f, "u64") for f in ("f_blocks", "f_bfree", "f_bavail", "f_files",
                                            "f_ffree")]
                    + _STATFS_TAIL)


_FLOCK_HEAD = [("l_type", "i16"), ("l_whence", "i16")]


def _timex(word: str) -> Decl:
    """linux/timex.h: struct timex has the ABI's longs, struct __kernel_timex 64-bit ones."""
    return ([("modes", "u32")]
            + [(f, word) for f in ("offset", "freq", "maxerror", "esterror")]
            + [("status", "i32")]
            + [(f, word) for f in ("constant", "precision", "tolerance", "time_sec",
                                   "time_usec", "tick", "ppsfreq", "jitter")]
            + [("shift", "i32")]
            + [(f, word) for f in ("stabil", "jitcnt", "calcnt", "errcnt", "stbcnt")]
            + [("tai", "i32"), ("__reserved", "pad[44]")])


def _itimer(word: str, frac: str) -> Decl:
    """itimerspec/itimerval: it_interval then it_value, each (seconds, fraction)."""
    return [(f"it_{part}_{unit}", word) for part in ("interval", "value")
            for unit in ("sec", frac)]


def common(word_size: int) -> dict[str, Decl]:
    """Structs whose definition is the same C on every ABI (sizes still follow the word)."""
    return {
        "timespec": [("tv_sec", "long"), ("tv_nsec", "long")],
        "timespec64": [("tv_sec", "i64"), ("tv_nsec", "i64")],
        "timeval": [("tv_sec", "long"), ("tv_usec", "long")],
        "timezone": [("tz_minuteswest", "i32"), ("tz_dsttime", "i32")],
        "utsname": [(n, "char[65]") for n in
                    ("sysname", "nodename", "release", "version", "machine", "domainname")],
        "iovec": [("iov_base", "ptr"), ("iov_len", "ulong")],
        "rlimit": [("rlim_cur", "ulong"), ("rlim_max", "ulong")],
        "rlimit64": [("rlim_cur", "u64"), ("rlim_max", "u64")],
        "winsize": [("ws_row", "u16"), ("ws_col", "u16"), ("ws_xpixel", "u16"),
                    ("ws_ypixel", "u16")],
        "sysinfo": [("uptime", "long"), ("loads", "ulong[3]"), ("totalram", "ulong"),
                    ("freeram", "ulong"), ("sharedram", "ulong"), ("bufferram", "ulong"),
                    ("totalswap", "ulong"), ("freeswap", "ulong"), ("procs", "u16"),
                    ("pad", "u16"), ("totalhigh", "ulong"), ("freehigh", "ulong"),
                    ("mem_unit", "u32")] + ([("_f", "pad[8]")] if word_size == 4 else []),
        "statx": [("stx_mask", "u32"), ("stx_blksize", "u32"), ("stx_attributes", "u64"),
                  ("stx_nlink", "u32"), ("stx_uid", "u32"), ("stx_gid", "u32"),
                  ("stx_mode", "u16"), ("__spare0", "u16"), ("stx_ino", "u64"),
                  ("stx_size", "u64"), ("stx_blocks", "u64"), ("stx_attributes_mask", "u64"),
                  *_statx_timestamp("stx_atime"), *_statx_timestamp("stx_btime"),
                  *_statx_timestamp("stx_ctime"), *_statx_timestamp("stx_mtime"),
                  ("stx_rdev_major", "u32"), ("stx_rdev_minor", "u32"),
                  ("stx_dev_major", "u32"), ("stx_dev_minor", "u32"), ("stx_mnt_id", "u64"),
                  ("stx_dio_mem_align", "u32"), ("stx_dio_offset_align", "u32"),
                  ("__spare3", "u64[12]")],
        "statfs": GENERIC_STATFS,
        "statfs64": GENERIC_STATFS64,
        "linux_dirent64": [("d_ino", "u64"), ("d_off", "i64"), ("d_reclen", "u16"),
                           ("d_type", "u8")],
        # getdents(2)'s old record: the name follows d_reclen, d_type is the record's last byte
        "linux_dirent": [("d_ino", "ulong"), ("d_off", "ulong"), ("d_reclen", "u16")],
        "utimbuf": [("actime", "long"), ("modtime", "long")],
        "tms": [("tms_utime", "long"), ("tms_stime", "long"), ("tms_cutime", "long"),
                ("tms_cstime", "long")],
        "rusage": [("ru_utime_sec", "long"), ("ru_utime_usec", "long"),
                   ("ru_stime_sec", "long"), ("ru_stime_usec", "long"),
                   *[(f"ru_{n}", "long") for n in (
                       "maxrss", "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap",
                       "inblock", "oublock", "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw")]],
        "robust_list_head": [("list", "ptr"), ("futex_offset", "long"),
                             ("list_op_pending", "ptr")],
        "flock": _FLOCK_HEAD + [("l_start", "long"), ("l_len", "long"), ("l_pid", "i32")],
        "f_owner_ex": [("type", "i32"), ("pid", "i32")],
        "sched_param": [("sched_priority", "i32")],
        "inotify_event": [("wd", "i32"), ("mask", "u32"), ("cookie", "u32"), ("len", "u32")],
        "cap_user_header": [("version", "u32"), ("pid", "i32")],
        "cap_user_data": [("effective", "u32"), ("permitted", "u32"), ("inheritable", "u32")],
        "timex": _timex("long"),
        "timex64": _timex("i64"),
        "itimerspec": _itimer("long", "nsec"),
        "itimerspec64": _itimer("i64", "nsec"),
        "itimerval": _itimer("long", "usec"),
        "flock64": _FLOCK_HEAD + [("l_start", "i64"), ("l_len", "i64"), ("l_pid", "i32")],
    }


_STAT_TIMES = [("st_atime", "ulong"), ("st_atime_nsec", "ulong"), ("st_mtime", "ulong"),
               ("st_mtime_nsec", "ulong"), ("st_ctime", "ulong"), ("st_ctime_nsec", "ulong")]

# termios as TCGETS sees it (struct termios, not termios2): NCCS is 19, or 23 on MIPS.
_TERMIOS_HEAD = [("c_iflag", "u32"), ("c_oflag", "u32"), ("c_cflag", "u32"),
                 ("c_lflag", "u32"), ("c_line", "u8")]

ARM_EABI: dict[str, Decl] = {
    "stat64": [("st_dev", "u64"), ("__pad0", "pad[4]"), ("__st_ino", "ulong"),
               ("st_mode", "u32"), ("st_nlink", "u32"), ("st_uid", "ulong"), ("st_gid", "ulong"),
               ("st_rdev", "u64"), ("__pad3", "pad[4]"), ("st_size", "i64"),
               ("st_blksize", "ulong"), ("st_blocks", "u64"), *_STAT_TIMES, ("st_ino", "u64")],
    "stat": [("st_dev", "ulong"), ("st_ino", "ulong"), ("st_mode", "u16"), ("st_nlink", "u16"),
             ("st_uid", "u16"), ("st_gid", "u16"), ("st_rdev", "ulong"), ("st_size", "ulong"),
             ("st_blksize", "ulong"), ("st_blocks", "ulong"), *_STAT_TIMES,
             ("__unused4", "ulong"), ("__unused5", "ulong")],
    "sigaction": [("sa_handler", "ptr"), ("sa_flags", "ulong"), ("sa_restorer", "ptr"),
                  ("sa_mask", "u32[2]")],
    "termios": _TERMIOS_HEAD + [("c_cc", "u8[19]")],
    "stack_t": [("ss_sp", "ptr"), ("ss_flags", "i32"), ("ss_size", "ulong")],
    # arch/arm/include/uapi/asm/statfs.h: EABI packs statfs64 to 4-byte alignment
    "statfs64": GENERIC_STATFS64 + [("__packed__", "4")],
}

AARCH64: dict[str, Decl] = {
    "stat": [("st_dev", "ulong"), ("st_ino", "ulong"), ("st_mode", "u32"), ("st_nlink", "u32"),
             ("st_uid", "u32"), ("st_gid", "u32"), ("st_rdev", "ulong"), ("__pad1", "ulong"),
             ("st_size", "long"), ("st_blksize", "i32"), ("__pad2", "i32"), ("st_blocks", "long"),
             *_STAT_TIMES, ("__unused4", "u32"), ("__unused5", "u32")],
    "sigaction": [("sa_handler", "ptr"), ("sa_flags", "ulong"), ("sa_restorer", "ptr"),
                  ("sa_mask", "u32[2]")],
    "termios": _TERMIOS_HEAD + [("c_cc", "u8[19]")],
    "stack_t": [("ss_sp", "ptr"), ("ss_flags", "i32"), ("ss_size", "ulong")],
}

MIPS_O32: dict[str, Decl] = {
    "stat64": [("st_dev", "ulong"), ("st_pad0", "ulong[3]"), ("st_ino", "u64"),
               ("st_mode", "u32"), ("st_nlink", "u32"), ("st_uid", "u32"), ("st_gid", "u32"),
               ("st_rdev", "ulong"), ("st_pad1", "ulong[3]"), ("st_size", "i64"),
               ("st_atime", "long"), ("st_atime_nsec", "ulong"), ("st_mtime", "long"),
               ("st_mtime_nsec", "ulong"), ("st_ctime", "long"), ("st_ctime_nsec", "ulong"),
               ("st_blksize", "ulong"), ("st_pad2", "ulong"), ("st_blocks", "i64")],
    "stat": [("st_dev", "u32"), ("st_pad1", "long[3]"), ("st_ino", "ulong"), ("st_mode", "u32"),
             ("st_nlink", "u32"), ("st_uid", "i32"), ("st_gid", "i32"), ("st_rdev", "u32"),
             ("st_pad2", "long[2]"), ("st_size", "long"), ("st_pad3", "long"),
             ("st_atime", "long"), ("st_atime_nsec", "long"), ("st_mtime", "long"),
             ("st_mtime_nsec", "long"), ("st_ctime", "long"), ("st_ctime_nsec", "long"),
             ("st_blksize", "long"), ("st_blocks", "long"), ("st_pad4", "long[14]")],
    "sigaction": [("sa_flags", "u32"), ("sa_handler", "ptr"), ("sa_mask", "u32[4]")],
    "termios": _TERMIOS_HEAD + [("c_cc", "u8[23]")],
    "stack_t": [("ss_sp", "ptr"), ("ss_size", "ulong"), ("ss_flags", "i32")],
    # The o32 struct flock has l_sysid and padding: l_sysid before l_pid, as in the kernel up
    # to 5.18, glibc's <bits/fcntl.h> and qemu (6.1's uapi header has it after l_pid: see
    # tests/test_layouts.py)
    "flock": _FLOCK_HEAD + [("l_start", "long"), ("l_len", "long"), ("l_sysid", "long"),
                            ("l_pid", "i32"), ("pad", "long[4]")],
    "statfs": [(f, "long") for f in ("f_type", "f_bsize", "f_frsize", "f_blocks", "f_bfree",
                                     "f_files", "f_ffree", "f_bavail")]
              + [("f_fsid", "i32[2]"), ("f_namelen", "long"), ("f_flags", "long"),
                 ("f_spare", "long[5]")],
    "statfs64": [("f_type", "long"), ("f_bsize", "long"), ("f_frsize", "long"), ("__pad", "long")]
                + [(f, "i64") for f in ("f_blocks", "f_bfree", "f_files", "f_ffree", "f_bavail")]
                + [("f_fsid", "i32[2]"), ("f_namelen", "long"), ("f_flags", "long"),
                   ("f_spare", "long[5]")],
}
