/* IEEE exception flags of single basic operations (+ - * / sqrt, double and float).
 *
 * Each operation runs with the flags cleared, then the result bits and the raised flags are
 * printed for hand-picked operands (exact and rounded results, overflow, underflow, division
 * by zero, invalid), and folded into one checksum over many generated operands whose
 * significands are short enough that a good share of the results is exact. Compared with
 * qemu-user: it catches an engine that computes a result right but its inexact flag wrong. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FLAGS (FE_INEXACT | FE_UNDERFLOW | FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID)

static volatile double vd[2];
static volatile float vf[2];

static int flags_code(int raised)
{
    return (raised & FE_INEXACT ? 1 : 0) | (raised & FE_UNDERFLOW ? 2 : 0) |
           (raised & FE_OVERFLOW ? 4 : 0) | (raised & FE_DIVBYZERO ? 8 : 0) |
           (raised & FE_INVALID ? 16 : 0);
}

static double op_d(int op, double a, double b, int *flags)
{
    double r;
    vd[0] = a;
    vd[1] = b;
    feclearexcept(FLAGS);
    switch (op) {
    case 0: r = vd[0] + vd[1]; break;
    case 1: r = vd[0] - vd[1]; break;
    case 2: r = vd[0] * vd[1]; break;
    case 3: r = vd[0] / vd[1]; break;
    default: r = sqrt(vd[0]); break;
    }
    *flags = flags_code(fetestexcept(FLAGS));
    return r;
}

static float op_f(int op, float a, float b, int *flags)
{
    float r;
    vf[0] = a;
    vf[1] = b;
    feclearexcept(FLAGS);
    switch (op) {
    case 0: r = vf[0] + vf[1]; break;
    case 1: r = vf[0] - vf[1]; break;
    case 2: r = vf[0] * vf[1]; break;
    case 3: r = vf[0] / vf[1]; break;
    default: r = sqrtf(vf[0]); break;
    }
    *flags = flags_code(fetestexcept(FLAGS));
    return r;
}

static uint64_t bits_d(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint32_t bits_f(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
}

/* A value with a significand of 1..53 bits and an exponent in [-40, 40] (sign random). */
static double gen_d(void)
{
    int sig_bits = 1 + (int)(next() % 53);
    double m = (double)((next() & ((1ULL << sig_bits) - 1)) | (1ULL << (sig_bits - 1)));
    double v = ldexp(m, (int)(next() % 81) - 40 - sig_bits);
    return next() & 1 ? -v : v;
}

static float gen_f(void)
{
    int sig_bits = 1 + (int)(next() % 24);
    float m = (float)((next() & ((1u << sig_bits) - 1)) | (1u << (sig_bits - 1)));
    float v = ldexpf(m, (int)(next() % 41) - 20 - sig_bits);
    return next() & 1 ? -v : v;
}

static const char *const names[] = {"add", "sub", "mul", "div", "sqrt"};

int main(void)
{
    static const double pairs[][2] = {
        {1.0, 2.0}, {0.1, 0.2}, {1.5, 2.0}, {1.0, 3.0}, {6.0, 3.0}, {4.0, 0.0},
        {2.0, 0.0}, {1e308, 10.0}, {1e-308, 1e-10}, {0.0, 0.0}, {-0.0, 0.0},
        {1.0, 1e-30}, {0x1p52, 0.5}, {0x1.fffffffffffffp0, 0x1p-52}, {3.0, -3.0},
        {0x1p-1022, 0x1p-1}, {2.25, 1.5}, {1e300, 1e300}, {-1.0, 0.0},
    };
    int flags;

    for (unsigned i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        for (int op = 0; op < 5; op++) {
            double r = op_d(op, pairs[i][0], pairs[i][1], &flags);
            printf("d %-4s %a %a -> %016llx flags=%d\n", names[op], pairs[i][0], pairs[i][1],
                   (unsigned long long)bits_d(r), flags);
            float rf = op_f(op, (float)pairs[i][0], (float)pairs[i][1], &flags);
            printf("f %-4s %a %a -> %08x flags=%d\n", names[op], (double)(float)pairs[i][0],
                   (double)(float)pairs[i][1], (unsigned)bits_f(rf), flags);
        }
    }

    uint64_t sum = 0;
    unsigned inexact[2][5] = {{0}}, count = 20000;
    for (unsigned i = 0; i < count; i++) {
        double a = gen_d(), b = gen_d();
        float af = gen_f(), bf = gen_f();
        for (int op = 0; op < 5; op++) {
            double x = op == 4 ? fabs(a) : a;
            float xf = op == 4 ? fabsf(af) : af;
            double r = op_d(op, x, b, &flags);
            sum = sum * 31 + bits_d(r) + (uint64_t)flags;
            inexact[0][op] += flags & 1;
            float rf = op_f(op, xf, bf, &flags);
            sum = sum * 31 + bits_f(rf) + (uint64_t)flags;
            inexact[1][op] += flags & 1;
        }
    }
    for (int op = 0; op < 5; op++)
        printf("%s: %u/%u doubles and %u/%u floats inexact\n", names[op], inexact[0][op], count,
               inexact[1][op], count);
    printf("checksum %016llx\n", (unsigned long long)sum);
    return 0;
}
