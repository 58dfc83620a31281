/* The same cases as cpu-alu, compiled for i386 (the 64-bit forms drop out). */
#include "../cpu-alu/alu.c"
