/*
 * Allocate and free 100 MiB in 1 MiB chunks (touching every page), then one
 * 100 MiB block; print checksums.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)
#define CHUNKS 100
#define PAGE 4096u

int main(void)
{
    unsigned char *chunks[CHUNKS];
    uint32_t sum = 0;

    for (unsigned i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc(MIB);
        if (chunks[i] == NULL) {
            printf("malloc chunk %u failed\n", i);
            return 1;
        }
        for (unsigned off = 0; off < MIB; off += PAGE)
            chunks[i][off] = (unsigned char)(i + off / PAGE);
        chunks[i][MIB - 1] = (unsigned char)i;
    }
    for (unsigned i = 0; i < CHUNKS; i++) {
        for (unsigned off = 0; off < MIB; off += PAGE)
            sum = sum * 31u + chunks[i][off];
        sum += chunks[i][MIB - 1];
    }
    printf("chunks checksum=%08x\n", (unsigned)sum);
    for (unsigned i = 0; i < CHUNKS; i++)
        free(chunks[i]);

    size_t big = (size_t)CHUNKS * MIB;
    unsigned char *b = malloc(big);
    if (b == NULL) {
        printf("malloc big failed\n");
        return 1;
    }
    memset(b, 0x5a, big);
    for (size_t off = 0; off < big; off += PAGE)
        b[off] = (unsigned char)(off / PAGE);
    sum = 0;
    for (size_t off = 0; off < big; off += PAGE / 4)
        sum = sum * 31u + b[off];
    printf("big checksum=%08x last=%02x\n", (unsigned)sum, b[big - 1]);
    free(b);

    /* a realloc chain */
    unsigned char *r = NULL;
    size_t size = 0;
    for (int k = 0; k < 20; k++) {
        size_t ns = size + 300000;
        unsigned char *nr = realloc(r, ns);
        if (nr == NULL) {
            printf("realloc failed\n");
            return 1;
        }
        memset(nr + size, k, ns - size);
        r = nr;
        size = ns;
    }
    sum = 0;
    for (size_t off = 0; off < size; off += 1000)
        sum = sum * 31u + r[off];
    printf("realloc size=%zu checksum=%08x\n", size, (unsigned)sum);
    free(r);
    printf("done\n");
    return 0;
}
