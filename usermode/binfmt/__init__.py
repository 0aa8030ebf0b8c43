"""``pyemu-binfmt``: pyemu as binfmt_misc's interpreter for foreign Linux programs.

``magic`` derives each arch's magic and mask from its CpuSpec, ``entries`` reads and writes
binfmt_misc, ``launcher`` writes the interpreter files the kernel runs, ``run`` is what those
run, ``command`` is the command line. Only ``main`` is imported here: the launchers import
``run`` on every program start, and that path stays short.
"""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from .command import main as command_main

    return command_main(argv)
