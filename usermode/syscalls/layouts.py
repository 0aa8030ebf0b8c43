"""Struct declarations of the Linux syscall ABIs, written once (see ``structs.py`` for the types).

Sources: include/uapi/linux/{stat,time_types,utsname,uio,resource,sysinfo,termios}.h,
include/uapi/asm-generic/{stat,termbits}.h, arch/arm/include/uapi/asm/{stat,signal}.h,
arch/mips/include/uapi/asm/{stat,signal,termbits}.h. ``tests/test_layouts.py`` checks every
declaration against the cross compilers' view of those headers.
"""
from __future__ import annotations

Decl = list[tuple[str, str]]   # or {"big": Decl, "little": Decl} (see structs.py)


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


# -- SysV IPC (linux/{ipc,shm,sem,msg}.h, asm-generic/{ipcbuf,shmbuf,sembuf,msgbuf}.h and the
# arch's own). A struct ipc64_perm/ipc_perm inside another is flattened with the prefix "perm_"
# (its offsets do not change: the next field's alignment is at least the perm's).
def _ipc64_perm(mode: str) -> Decl:
    """asm-generic/ipcbuf.h: mode is __kernel_mode_t, padded to 4 bytes."""
    return ([("key", "i32")] + [(f, "u32") for f in ("uid", "gid", "cuid", "cgid")]
            + [("mode", mode)] + ([("__pad1", "pad[2]")] if mode == "u16" else [])
            + [("seq", "u16"), ("__pad2", "u16"), ("__unused1", "ulong"), ("__unused2", "ulong")])


def _ipc_perm(ids: str, mode: str) -> Decl:
    """linux/ipc.h: the old struct ipc_perm (the arch's __kernel_uid_t and mode_t)."""
    return ([("key", "i32")] + [(f, ids) for f in ("uid", "gid", "cuid", "cgid")]
            + [("mode", mode), ("seq", "u16")])


def _perm(decl: Decl) -> Decl:
    return [(f"perm_{name}", ctype) for name, ctype in decl]


def _times(names: tuple[str, ...], word: str, high: bool, high_first: bool = False) -> Decl:
    """Time fields; on 32-bit ABIs each has a _high word for the upper 32 bits (y2038)."""
    out: Decl = []
    for n in names:
        pair = [(n, word), (f"{n}_high", "ulong")] if high else [(n, word)]
        out += pair[::-1] if high_first else pair
    return out


def _shmid64_ds(perm: Decl, word_size: int) -> Decl:
    """asm-generic/shmbuf.h."""
    return (_perm(perm) + [("shm_segsz", "ulong")]
            + _times(("shm_atime", "shm_dtime", "shm_ctime"), "long" if word_size == 8 else
                     "ulong", word_size == 4)
            + [("shm_cpid", "i32"), ("shm_lpid", "i32"), ("shm_nattch", "ulong"),
               ("__unused4", "ulong"), ("__unused5", "ulong")])


def _semid64_ds(perm: Decl, word_size: int) -> Decl:
    """asm-generic/sembuf.h."""
    return (_perm(perm)
            + _times(("sem_otime", "sem_ctime"), "long" if word_size == 8 else "ulong",
                     word_size == 4)
            + [("sem_nsems", "ulong"), ("__unused3", "ulong"), ("__unused4", "ulong")])


def _msqid64_ds(perm: Decl, word_size: int, high_first: bool = False) -> Decl:
    """asm-generic/msgbuf.h (MIPS: the same, with the halves in memory order)."""
    return (_perm(perm)
            + _times(("msg_stime", "msg_rtime", "msg_ctime"), "long" if word_size == 8 else
                     "ulong", word_size == 4, high_first)
            + [("msg_cbytes", "ulong"), ("msg_qnum", "ulong"), ("msg_qbytes", "ulong"),
               ("msg_lspid", "i32"), ("msg_lrpid", "i32"), ("__unused4", "ulong"),
               ("__unused5", "ulong")])


def _old_ipc(ids: str, mode: str, ipc_pid: str) -> dict[str, Decl]:
    """The structs of the *ctl commands without IPC_64 (32-bit ABIs with the old forms)."""
    perm = _ipc_perm(ids, mode)
    return {
        "ipc_perm": perm,
        "shmid_ds": _perm(perm) + [("shm_segsz", "i32"), ("shm_atime", "long"),
                                   ("shm_dtime", "long"), ("shm_ctime", "long"),
                                   ("shm_cpid", ipc_pid), ("shm_lpid", ipc_pid),
                                   ("shm_nattch", "u16"), ("shm_unused", "u16"),
                                   ("shm_unused2", "ptr"), ("shm_unused3", "ptr")],
        "semid_ds": _perm(perm) + [("sem_otime", "long"), ("sem_ctime", "long"),
                                   ("sem_base", "ptr"), ("sem_pending", "ptr"),
                                   ("sem_pending_last", "ptr"), ("undo", "ptr"),
                                   ("sem_nsems", "u16")],
        "msqid_ds": _perm(perm) + [("msg_first", "ptr"), ("msg_last", "ptr"),
                                   ("msg_stime", "long"), ("msg_rtime", "long"),
                                   ("msg_ctime", "long"), ("msg_lcbytes", "ulong"),
                                   ("msg_lqbytes", "ulong"), ("msg_cbytes", "u16"),
                                   ("msg_qnum", "u16"), ("msg_qbytes", "u16"),
                                   ("msg_lspid", ipc_pid), ("msg_lrpid", ipc_pid)],
        "shminfo": [(f, "i32") for f in ("shmmax", "shmmin", "shmmni", "shmseg", "shmall")],
    }


# The 64-bit generic forms: AArch64's, and the host's (a 64-bit host: see hostlib).
GENERIC_IPC64_PERM = _ipc64_perm("u32")
GENERIC64_IPC = {
    "ipc64_perm": GENERIC_IPC64_PERM,
    "shmid64_ds": _shmid64_ds(GENERIC_IPC64_PERM, 8),
    "semid64_ds": _semid64_ds(GENERIC_IPC64_PERM, 8),
    "msqid64_ds": _msqid64_ds(GENERIC_IPC64_PERM, 8),
}


# The host's own structs, for handlers that hand one to the host's libc: a 64-bit host has the
# generic layouts, except where its arch has its own (x86_64 pads each time in semid64_ds:
# arch/x86/include/uapi/asm/sembuf.h). tests/test_layouts.py checks them with the host compiler.
_HOST_OVERRIDES: dict[str, dict[str, Decl]] = {
    # arch/x86's EPOLL_PACKED: no padding before the 64-bit data
    "x86_64": {"epoll_event": [("events", "u32"), ("data", "u64"), ("__packed__", "4")],
               "semid64_ds": _perm(GENERIC_IPC64_PERM) + [
        ("sem_otime", "long"), ("__unused1", "ulong"), ("sem_ctime", "long"),
        ("__unused2", "ulong"), ("sem_nsems", "ulong"), ("__unused3", "ulong"),
        ("__unused4", "ulong")]},
}


def host_decls(machine: str) -> dict[str, Decl]:
    """Every struct as the (64-bit) host ``machine`` (``os.uname().machine``) lays it out."""
    return {**common(8), **GENERIC64_IPC, **_HOST_OVERRIDES.get(machine, {})}


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
        # readdir(2)'s one entry: the name follows d_namlen
        "old_linux_dirent": [("d_ino", "ulong"), ("d_offset", "ulong"), ("d_namlen", "u16")],
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
        "open_how": [("flags", "u64"), ("mode", "u64"), ("resolve", "u64")],
        "sched_param": [("sched_priority", "i32")],
        "inotify_event": [("wd", "i32"), ("mask", "u32"), ("cookie", "u32"), ("len", "u32")],
        "fanotify_event_metadata": [("event_len", "u32"), ("vers", "u8"), ("reserved", "u8"),
                                    ("metadata_len", "u16"), ("mask", "u64"), ("fd", "i32"),
                                    ("pid", "i32")],
        "sembuf": [("sem_num", "u16"), ("sem_op", "i16"), ("sem_flg", "i16")],
        "shminfo64": [(f, "ulong") for f in ("shmmax", "shmmin", "shmmni", "shmseg", "shmall",
                                             "__unused1", "__unused2", "__unused3",
                                             "__unused4")],
        "shm_info": [("used_ids", "i32")] + [(f, "ulong") for f in (
            "shm_tot", "shm_rss", "shm_swp", "swap_attempts", "swap_successes")],
        "seminfo": [(f, "i32") for f in ("semmap", "semmni", "semmns", "semmnu", "semmsl",
                                         "semopm", "semume", "semusz", "semvmx", "semaem")],
        "msginfo": [(f, "i32") for f in ("msgpool", "msgmap", "msgmax", "msgmnb", "msgmni",
                                         "msgssz", "msgtql")] + [("msgseg", "u16")],
        "ipc_kludge": [("msgp", "ptr"), ("msgtyp", "long")],
        "mq_attr": [(f, "long") for f in ("mq_flags", "mq_maxmsg", "mq_msgsize", "mq_curmsgs")]
                   + [("__reserved", "long[4]")],
        # asm-generic/siginfo.h: the value, number and kind, then a union up to 64 bytes
        "sigevent": [("sigev_value", "ptr"), ("sigev_signo", "i32"), ("sigev_notify", "i32"),
                     ("sigev_tid", "i32"), ("_sigev_un", f"pad[{64 - word_size - 12}]")],
        # linux/signalfd.h: fixed-size members, the same on every ABI but for byte order
        "signalfd_siginfo": [
            ("ssi_signo", "u32"), ("ssi_errno", "i32"), ("ssi_code", "i32"), ("ssi_pid", "u32"),
            ("ssi_uid", "u32"), ("ssi_fd", "i32"), ("ssi_tid", "u32"), ("ssi_band", "u32"),
            ("ssi_overrun", "u32"), ("ssi_trapno", "u32"), ("ssi_status", "i32"),
            ("ssi_int", "i32"), ("ssi_ptr", "u64"), ("ssi_utime", "u64"), ("ssi_stime", "u64"),
            ("ssi_addr", "u64"), ("ssi_addr_lsb", "u16"), ("__pad2", "u16"),
            ("ssi_syscall", "i32"), ("ssi_call_addr", "u64"), ("ssi_arch", "u32"),
            ("__pad", "pad[28]")],
        # linux/sched.h: clone3's argument, every member an __aligned_u64 (CLONE_ARGS_SIZE_VER2)
        "clone_args": [(f, "u64") for f in (
            "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size",
            "tls", "set_tid", "set_tid_size", "cgroup")],
        "cap_user_header": [("version", "u32"), ("pid", "i32")],
        "cap_user_data": [("effective", "u32"), ("permitted", "u32"), ("inheritable", "u32")],
        "timex": _timex("long"),
        "timex64": _timex("i64"),
        "itimerspec": _itimer("long", "nsec"),
        "itimerspec64": _itimer("i64", "nsec"),
        "itimerval": _itimer("long", "usec"),
        "flock64": _FLOCK_HEAD + [("l_start", "i64"), ("l_len", "i64"), ("l_pid", "i32")],
        **sockets(word_size),
    }


def _msghdr(prefix: str = "") -> Decl:
    return [(f"{prefix}{n}", t) for n, t in (
        ("msg_name", "ptr"), ("msg_namelen", "u32"), ("msg_iov", "ptr"), ("msg_iovlen", "ulong"),
        ("msg_control", "ptr"), ("msg_controllen", "ulong"), ("msg_flags", "i32"))]


def sockets(word_size: int) -> dict[str, Decl]:
    """Socket structs (linux/{in,in6,un,netlink,eventpoll}.h; msghdr, cmsghdr, mmsghdr, linger,
    ucred and ifreq as libc spells the kernel's include/linux/socket.h and uapi linux/if.h).
    Addresses and ports inside sockaddrs are in network order: declared as bytes."""
    return {
        "sockaddr_in": [("sin_family", "u16"), ("sin_port", "u8[2]"), ("sin_addr", "u8[4]"),
                        ("__pad", "pad[8]")],
        "sockaddr_in6": [("sin6_family", "u16"), ("sin6_port", "u8[2]"),
                         ("sin6_flowinfo", "u8[4]"), ("sin6_addr", "u8[16]"),
                         ("sin6_scope_id", "u32")],
        "sockaddr_un": [("sun_family", "u16"), ("sun_path", "char[108]")],
        "sockaddr_nl": [("nl_family", "u16"), ("nl_pad", "u16"), ("nl_pid", "u32"),
                        ("nl_groups", "u32")],
        "msghdr": _msghdr(),
        # msg_hdr's own tail padding (64-bit) comes before msg_len
        "mmsghdr": _msghdr("msg_hdr.") + ([("__hdr_tail", "pad[4]")] if word_size == 8 else [])
                   + [("msg_len", "u32")],
        "cmsghdr": [("cmsg_len", "ulong"), ("cmsg_level", "i32"), ("cmsg_type", "i32")],
        "linger": [("l_onoff", "i32"), ("l_linger", "i32")],
        "ucred": [("pid", "i32"), ("uid", "u32"), ("gid", "u32")],
        "ip_mreq": [("imr_multiaddr", "u8[4]"), ("imr_interface", "u8[4]")],
        "ip_mreqn": [("imr_multiaddr", "u8[4]"), ("imr_address", "u8[4]"),
                     ("imr_ifindex", "i32")],
        "ipv6_mreq": [("ipv6mr_multiaddr", "u8[16]"), ("ipv6mr_ifindex", "i32")],
        "epoll_event": [("events", "u32"), ("data", "u64")],
        # the union after the name holds a struct ifmap (two longs and four shorter fields)
        "ifreq": [("ifr_name", "char[16]"), ("ifr_ifindex", "i32"),
                  ("__ifr_rest", f"pad[{12 if word_size == 4 else 20}]")],
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
    # asm-generic IPC with ARM's 16-bit __kernel_mode_t, uid_t and ipc_pid_t
    "ipc64_perm": _ipc64_perm("u16"),
    "shmid64_ds": _shmid64_ds(_ipc64_perm("u16"), 4),
    "semid64_ds": _semid64_ds(_ipc64_perm("u16"), 4),
    "msqid64_ds": _msqid64_ds(_ipc64_perm("u16"), 4),
    **_old_ipc("u16", "u16", "u16"),
}

AARCH64: dict[str, Decl] = {
    **GENERIC64_IPC,
    "stat": [("st_dev", "ulong"), ("st_ino", "ulong"), ("st_mode", "u32"), ("st_nlink", "u32"),
             ("st_uid", "u32"), ("st_gid", "u32"), ("st_rdev", "ulong"), ("__pad1", "ulong"),
             ("st_size", "long"), ("st_blksize", "i32"), ("__pad2", "i32"), ("st_blocks", "long"),
             *_STAT_TIMES, ("__unused4", "u32"), ("__unused5", "u32")],
    "sigaction": [("sa_handler", "ptr"), ("sa_flags", "ulong"), ("sa_restorer", "ptr"),
                  ("sa_mask", "u32[2]")],
    "termios": _TERMIOS_HEAD + [("c_cc", "u8[19]")],
    "stack_t": [("ss_sp", "ptr"), ("ss_flags", "i32"), ("ss_size", "ulong")],
}

_MIPS_IPC64_PERM = _ipc64_perm("u32")

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
    # arch/mips/include/uapi/asm/{ipcbuf,shmbuf,sembuf,msgbuf}.h (o32)
    "ipc64_perm": _MIPS_IPC64_PERM,
    "shmid64_ds": _perm(_MIPS_IPC64_PERM) + [
        ("shm_segsz", "ulong"), ("shm_atime", "long"), ("shm_dtime", "long"),
        ("shm_ctime", "long"), ("shm_cpid", "i32"), ("shm_lpid", "i32"),
        ("shm_nattch", "ulong"), ("shm_atime_high", "u16"), ("shm_dtime_high", "u16"),
        ("shm_ctime_high", "u16"), ("__unused1", "u16")],
    "semid64_ds": _perm(_MIPS_IPC64_PERM) + [
        ("sem_otime", "ulong"), ("sem_ctime", "ulong"), ("sem_nsems", "ulong"),
        ("sem_otime_high", "ulong"), ("sem_ctime_high", "ulong")],
    # the 32-bit halves of each time in memory order: high first on big-endian
    "msqid64_ds": {"big": _msqid64_ds(_MIPS_IPC64_PERM, 4, high_first=True),
                   "little": _msqid64_ds(_MIPS_IPC64_PERM, 4)},
    **_old_ipc("u32", "u32", "i32"),
    "statfs64": [("f_type", "long"), ("f_bsize", "long"), ("f_frsize", "long"), ("__pad", "long")]
                + [(f, "i64") for f in ("f_blocks", "f_bfree", "f_files", "f_ffree", "f_bavail")]
                + [("f_fsid", "i32[2]"), ("f_namelen", "long"), ("f_flags", "long"),
                   ("f_spare", "long[5]")],
}
