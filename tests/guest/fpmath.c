/* Floating-point library results printed with full precision. */
#include <math.h>
#include <stdio.h>

int main(void)
{
    static const double xs[] = {0.0, 0.5, 1.0, 2.0, 3.141592653589793, 10.0, 123.456};
    volatile double v;

    for (unsigned i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        v = xs[i];
        double x = v;
        printf("x=%.17g\n", x);
        printf("  sin=%.17g cos=%.17g\n", sin(x), cos(x));
        printf("  exp=%.17g sqrt=%.17g\n", exp(x), sqrt(x));
        if (x > 0)
            printf("  log=%.17g pow(x,1.5)=%.17g pow(2,x)=%.17g\n", log(x), pow(x, 1.5),
                   pow(2.0, x));
    }

    v = 1.0;
    printf("1/3=%.17g\n", v / 3.0);
    printf("sqrt(2)*sqrt(2)=%.17g\n", sqrt(2.0 * v) * sqrt(2.0 * v));
    printf("1e308*10=%g -1e308*10=%g\n", v * 1e308 * 10.0, -v * 1e308 * 10.0);
    printf("0/0 is nan=%d\n", isnan((v - 1.0) / (v - 1.0)));
    printf("float: %.9g %.9g\n", (float)(v / 3.0), (float)sqrt(3.0 * v));

    /* conversions */
    static const double cs[] = {2.5, -2.5, 3.7, -3.7, 1e9, -1e9, 0.99999};
    for (unsigned i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        v = cs[i];
        double c = v;
        printf("conv %.17g: (int)=%d (long long)=%lld lround=%ld floor=%.17g ceil=%.17g "
               "trunc=%.17g rint=%.17g\n",
               c, (int)c, (long long)c, lround(c), floor(c), ceil(c), trunc(c), rint(c));
        if (c >= 0)
            printf("  (unsigned)=%u\n", (unsigned)c);
    }
    v = 16777217.0;
    printf("(float)16777217=%.9g\n", (float)v);
    v = 3;
    printf("(double)(int)3 / 2=%.17g\n", (double)(int)v / 2);
    printf("fmod(10.5,3)=%.17g hypot(3,4)=%.17g atan2(1,1)=%.17g\n", fmod(10.5 * v / 3, 3.0),
           hypot(3.0 * v / 3, 4.0), atan2(v / 3, 1.0));
    return 0;
}
