/* A tiny library for the build-system tests: something to unit-test. */
#ifndef CALC_H
#define CALC_H

unsigned gcd(unsigned a, unsigned b);
int is_prime(unsigned n);

#endif
