/* A program without a C library: only an entry point (to build for ABIs with no libc
   installed, e.g. MIPS n32, whose headers binfmt_misc must tell apart). Never run. */
void __start(void)
{
    for (;;)
        ;
}
