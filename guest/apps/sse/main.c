/* sse: SSE/SSE2 arithmetic, conversions, MXCSR rounding modes and flags.
 * Results print as hex bit patterns so the output is exact on any correct CPU.
 * Inputs go through volatile variables so gcc computes nothing at build time. */
#include <unimachine.h>

#define MXCSR_FLAGS   0x003F /* IE DE ZE OE UE PE */
#define MXCSR_RC_SHIFT 13
#define MXCSR_FTZ     0x8000
#define MXCSR_DEFAULT 0x1F80 /* all exceptions masked, round to nearest */

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static uint64_t f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static float f32_from(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static int64_t cvtsd2si(double d) /* rounds per MXCSR.RC */
{
	int64_t r;
	__asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(d));
	return r;
}

static int32_t cvtss2si(float f)
{
	int32_t r;
	__asm__ volatile("cvtss2si %1, %0" : "=r"(r) : "x"(f));
	return r;
}

static float sqrtss(float f)
{
	__asm__ volatile("sqrtss %1, %0" : "=x"(f) : "x"(f));
	return f;
}

static double sqrtsd(double d)
{
	__asm__ volatile("sqrtsd %1, %0" : "=x"(d) : "x"(d));
	return d;
}

static double minsd(double a, double b) /* returns b if either is NaN */
{
	__asm__ volatile("minsd %1, %0" : "+x"(a) : "x"(b));
	return a;
}

static double maxsd(double a, double b)
{
	__asm__ volatile("maxsd %1, %0" : "+x"(a) : "x"(b));
	return a;
}

/* Compute var = expr with clean status flags and report the flags it raised.
 * The empty asm pins the computation between the two MXCSR accesses (gcc may
 * otherwise move register-only arithmetic across them). */
#define WITH_FLAGS(var, expr, flags_out)                                 \
	do {                                                             \
		set_mxcsr(get_mxcsr() & ~MXCSR_FLAGS);                   \
		var = (expr);                                            \
		__asm__ volatile("" : "+g"(var));                        \
		flags_out = get_mxcsr() & MXCSR_FLAGS;                   \
	} while (0)

static volatile float vf_1_1 = 1.1f, vf_2_2 = 2.2f, vf_zero = 0.0f, vf_2 = 2.0f, vf_m2_7 = -2.7f;
static volatile float vf_third_num = 1.0f, vf_three = 3.0f;
static volatile double vd_1_1 = 1.1, vd_2_2 = 2.2, vd_zero = 0.0, vd_2 = 2.0, vd_one = 1.0, vd_three = 3.0;
static volatile double vd_big = 1e20, vd_huge = 1e40;
static volatile int32_t vi_16777217 = 16777217, vi_m7 = -7;
static volatile int64_t vl_max = 0x7FFFFFFFFFFFFFFFll;
static volatile uint32_t vu_min_normal = 0x00800000; /* FLT_MIN */

typedef float v4sf __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));

int app_main(const char *args)
{
	(void)args;
	uint32_t flags;
	um_printf("mxcsr at start %08x\n", get_mxcsr());

	float f;
	WITH_FLAGS(f, vf_1_1 + vf_2_2, flags);
	um_printf("f32 1.1+2.2 = %08x flags %02x\n", f32_bits(f), flags);
	um_printf("f32 1.1-2.2 = %08x\n", f32_bits(vf_1_1 - vf_2_2));
	um_printf("f32 1.1*2.2 = %08x\n", f32_bits(vf_1_1 * vf_2_2));
	um_printf("f32 1.1/2.2 = %08x\n", f32_bits(vf_1_1 / vf_2_2));
	WITH_FLAGS(f, vf_2 / vf_2, flags);
	um_printf("f32 2/2 = %08x flags %02x\n", f32_bits(f), flags);

	double d;
	WITH_FLAGS(d, vd_1_1 + vd_2_2, flags);
	um_printf("f64 1.1+2.2 = %016lx flags %02x\n", f64_bits(d), flags);
	um_printf("f64 1.1-2.2 = %016lx\n", f64_bits(vd_1_1 - vd_2_2));
	um_printf("f64 1.1*2.2 = %016lx\n", f64_bits(vd_1_1 * vd_2_2));
	um_printf("f64 1.1/2.2 = %016lx\n", f64_bits(vd_1_1 / vd_2_2));

	um_printf("sqrtss 2 = %08x\n", f32_bits(sqrtss(vf_2)));
	um_printf("sqrtsd 2 = %016lx\n", f64_bits(sqrtsd(vd_2)));
	WITH_FLAGS(d, sqrtsd(-vd_2), flags);
	um_printf("sqrtsd -2 = %016lx flags %02x\n", f64_bits(d), flags);

	/* Special values with exceptions masked: infinities, the default NaN, flags. */
	WITH_FLAGS(d, vd_one / vd_zero, flags);
	um_printf("f64 1/0 = %016lx flags %02x\n", f64_bits(d), flags);
	WITH_FLAGS(d, vd_zero / vd_zero, flags);
	um_printf("f64 0/0 = %016lx flags %02x\n", f64_bits(d), flags);
	WITH_FLAGS(f, vf_zero / vf_zero, flags);
	um_printf("f32 0/0 = %08x flags %02x\n", f32_bits(f), flags);
	um_printf("minsd(NaN, 1) = %016lx maxsd(1, NaN) = %016lx\n", f64_bits(minsd(vd_zero / vd_zero, vd_one)),
		  f64_bits(maxsd(vd_one, vd_zero / vd_zero)));

	/* Conversions. */
	um_printf("(int)-2.7f = %d\n", (int)vf_m2_7);
	um_printf("(float)16777217 = %08x\n", f32_bits((float)vi_16777217));
	um_printf("(double)-7 = %016lx\n", f64_bits((double)vi_m7));
	um_printf("(double)INT64_MAX = %016lx\n", f64_bits((double)vl_max));
	int64_t l;
	WITH_FLAGS(l, (int64_t)vd_big, flags);
	um_printf("(int64)1e20 = %016lx flags %02x\n", (uint64_t)l, flags);
	WITH_FLAGS(f, (float)vd_huge, flags);
	um_printf("(float)1e40 = %08x flags %02x\n", f32_bits(f), flags);
	um_printf("(double)1.1f = %016lx\n", f64_bits((double)vf_1_1));
	WITH_FLAGS(f, (float)vd_1_1, flags);
	um_printf("(float)1.1 = %08x flags %02x\n", f32_bits(f), flags);

	/* Rounding modes: 0 nearest-even, 1 down, 2 up, 3 toward zero. */
	static const char *const modes[4] = { "nearest", "down", "up", "zero" };
	static const double halves[4] = { 2.5, -2.5, 3.5, -0.5 };
	for (unsigned rc = 0; rc < 4; rc++) {
		set_mxcsr((MXCSR_DEFAULT & ~(3u << MXCSR_RC_SHIFT)) | (rc << MXCSR_RC_SHIFT));
		um_printf("rc=%-7s", modes[rc]);
		for (int i = 0; i < 4; i++) {
			volatile double h = halves[i];
			um_printf(" %ld", (long)cvtsd2si(h));
		}
		um_printf(" cvtss2si(-1.5f)=%d", cvtss2si(-1.5f + vf_zero));
		um_printf(" 1/3f=%08x 1/3=%016lx\n", f32_bits(vf_third_num / vf_three), f64_bits(vd_one / vd_three));
	}
	set_mxcsr(MXCSR_DEFAULT);

	/* Denormals: FLT_MIN/2 is a denormal; with FTZ it flushes to zero (UE|PE). */
	volatile float min_normal = f32_from(vu_min_normal);
	WITH_FLAGS(f, min_normal / vf_2, flags);
	um_printf("FLT_MIN/2 = %08x flags %02x\n", f32_bits(f), flags);
	set_mxcsr(MXCSR_DEFAULT | MXCSR_FTZ);
	WITH_FLAGS(f, min_normal / vf_2, flags);
	um_printf("FLT_MIN/2 with FTZ = %08x flags %02x\n", f32_bits(f), flags);
	set_mxcsr(MXCSR_DEFAULT);

	/* Packed operations. */
	volatile v4sf a4 = { 1.0f, -2.0f, 0.5f, 3.0f }, b4 = { 0.25f, 4.0f, -8.0f, 1.5f };
	v4sf s4 = a4 + b4, p4 = a4 * b4;
	um_printf("addps = %08x %08x %08x %08x\n", f32_bits(s4[0]), f32_bits(s4[1]), f32_bits(s4[2]), f32_bits(s4[3]));
	um_printf("mulps = %08x %08x %08x %08x\n", f32_bits(p4[0]), f32_bits(p4[1]), f32_bits(p4[2]), f32_bits(p4[3]));
	volatile v2df a2 = { 1.1, -3.0 }, b2 = { 2.2, 0.125 };
	v2df q2 = a2 / b2;
	um_printf("divpd = %016lx %016lx\n", f64_bits(q2[0]), f64_bits(q2[1]));
	um_printf("mxcsr at end %08x\n", get_mxcsr() & ~MXCSR_FLAGS);
	return UM_EXIT_SUCCESS;
}
