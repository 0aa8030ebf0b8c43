"""tools/build_engine.py's patch still applies to the pinned unicorn sdist (the full build takes
minutes and is left to the project's install, which CI checks it made: see .ci/run)."""
from __future__ import annotations

import shutil
import sys

import pytest
from harness import REPO_ROOT, cache_dir

sys.path.insert(0, str(REPO_ROOT / "tools"))
import build_engine


def test_patch_applies_to_the_sdist(tmp_path):
    if not (shutil.which("git") or shutil.which("patch")):
        pytest.fail("git or patch is needed to apply the engine patch", pytrace=False)
    try:
        sdist = build_engine.fetch_sdist(cache_dir() / "engine")
    except build_engine.BuildError as err:
        pytest.fail(str(err), pytrace=False)
    src = build_engine.extract_sdist(sdist, tmp_path) / "src"
    build_engine.apply_patch(src)
    uc_c = (src / "uc.c").read_bytes()
    assert b"uc_pyemu_patches" in uc_c
    for name in build_engine.EXPECTED_PATCHES:     # the names the library reports
        assert name.encode() in uc_c
    assert b"tlb_grow_if_thrashing(env, mmu_idx);" in (src / "qemu/accel/tcg/cputlb.c").read_bytes()
    assert b"pyemu_exitreq_label" in (src / "qemu/include/exec/gen-icount.h").read_bytes()
    assert b"tcg_temp_free_i32(tcg_ctx, dyn_is_slot)" in (
        src / "qemu/target/mips/translate.c").read_bytes()
    assert b"pyemu_f64_div_exact" in (src / "qemu/fpu/softfloat.c").read_bytes()
    assert b"P_GS | P_ADDR32" in (src / "qemu/tcg/i386/tcg-target.inc.c").read_bytes()
    assert b"uc_pyemu_direct" in uc_c
    assert b"pyemu_code_translated(cpu->uc, pc)" in (
        src / "qemu/accel/tcg/translate-all.c").read_bytes()
    with pytest.raises(build_engine.BuildError):     # a second time: the hunks are there
        build_engine.apply_patch(src)
