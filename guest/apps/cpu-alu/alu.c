/* Integer instruction semantics: each operation runs over a grid of operands,
 * operand sizes and incoming flags; results and the architecturally defined
 * flags (undefined ones masked per the SDM) are folded into one FNV-1a hash
 * per operation and size. Built freestanding (no libc beyond alu_print), for
 * x86-64 (cpu-alu) and for i386 (cpu-alu32, without the 64-bit forms). */
#include "alu.h"

/* A general register: 64 bits on x86-64, 32 on i386. Operands pass through
 * "q" constraints so 8-bit forms get a register that has a low byte on i386. */
typedef unsigned long word;
#define SET_FLAGS "push %[f]\n\tpopf\n\t"
#define GET_FLAGS "\n\tpushf\n\tpop %[f]"

#define CF 0x001ull
#define PF 0x004ull
#define AF 0x010ull
#define ZF 0x040ull
#define SF 0x080ull
#define OF 0x800ull
#define STATUS (CF | PF | AF | ZF | SF | OF)
#define RFLAGS_FIXED 0x002ull

static const uint64_t operands[] = {
	0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
	0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull, 0x0123456789ABCDEFull,
	0xFEDCBA9876543210ull, 0x5555555555555555ull, 0xAAAAAAAAAAAAAAAAull, 0x00000001FFFFFFFEull,
};
#define N_OPERANDS (sizeof operands / sizeof operands[0])
static const uint64_t counts[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65 };
#define N_COUNTS (sizeof counts / sizeof counts[0])
/* Incoming flags: all status flags clear, and all set (shows unaffected flags and carry-in). */
static const uint64_t flags_in[] = { RFLAGS_FIXED, RFLAGS_FIXED | STATUS };

static uint64_t hash, hashed;

static void mix(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		hash ^= (v >> (8 * i)) & 0xFF;
		hash *= 0x100000001B3ull;
	}
}

static void begin(void)
{
	hash = 0xCBF29CE484222325ull;
	hashed = 0;
}

static void record(uint64_t result, uint64_t flags, uint64_t defined)
{
	mix(result);
	mix(flags & defined);
	hashed++;
}

/* ---- two-operand ALU ops: op src, dst ------------------------------------ */

#define OP2X(fn, insn, smod, dmod)                                                  \
	static uint64_t fn(uint64_t a64, uint64_t b64, uint64_t *flags)                 \
	{                                                                               \
		word a = (word)a64, b = (word)b64, f = (word)*flags;                    \
		__asm__ volatile(SET_FLAGS insn " %" smod "[b], %" dmod "[a]" GET_FLAGS \
				 : [a] "+q"(a), [f] "+r"(f)                              \
				 : [b] "q"(b)                                            \
				 : "cc", "memory");                                      \
		*flags = f;                                                             \
		return a;                                                               \
	}
#define OP2(fn, insn, mod) OP2X(fn, insn, mod, mod)
#ifdef __x86_64__
#define IF64(...) __VA_ARGS__
#else
#define IF64(...)
#endif
#define OP2_SIZES(name, insn)               \
	OP2(name##_b, insn "b", "b")        \
	OP2(name##_w, insn "w", "w")        \
	OP2(name##_l, insn "l", "k")        \
	IF64(OP2(name##_q, insn "q", "q"))
#define OP2_WLQ(name, insn)                 \
	OP2(name##_w, insn "w", "w")        \
	OP2(name##_l, insn "l", "k")        \
	IF64(OP2(name##_q, insn "q", "q"))

OP2_SIZES(add, "add")
OP2_SIZES(adc, "adc")
OP2_SIZES(sub, "sub")
OP2_SIZES(sbb, "sbb")
OP2_SIZES(and, "and")
OP2_SIZES(or, "or")
OP2_SIZES(xor, "xor")
OP2_SIZES(cmp, "cmp")
OP2_SIZES(test, "test")
OP2_SIZES(xadd, "xadd")
OP2_WLQ(imul2, "imul")
OP2_WLQ(bt, "bt")
OP2_WLQ(bts, "bts")
OP2_WLQ(btr, "btr")
OP2_WLQ(btc, "btc")
OP2_WLQ(bsf, "bsf")
OP2_WLQ(bsr, "bsr")
IF64(OP2_WLQ(popcnt, "popcnt")) /* not an i386 instruction */
OP2X(movsxb_l, "movsbl", "b", "k")
OP2X(movzxb_l, "movzbl", "b", "k")
OP2X(movsxw_l, "movswl", "w", "k")
OP2X(movzxw_l, "movzwl", "w", "k")
IF64(OP2X(movsxb_q, "movsbq", "b", "q"))
IF64(OP2X(movsxl_q, "movslq", "k", "q"))

typedef uint64_t (*op2_fn)(uint64_t, uint64_t, uint64_t *);

static uint64_t low_bits(uint64_t v, unsigned bits)
{
	return bits == 64 ? v : v & ((1ull << bits) - 1);
}

/* Bit-scan destinations are undefined when the source operand (its low
 * `bits`) is zero: AMD leaves the register as it was, others may not. */
#define SKIP_ZERO_SOURCE 1

static void run_op2(const char *name, op2_fn fn, unsigned bits, uint64_t defined, int flags)
{
	begin();
	for (unsigned i = 0; i < N_OPERANDS; i++)
		for (unsigned j = 0; j < N_OPERANDS; j++)
			for (unsigned k = 0; k < 2; k++) {
				if ((flags & SKIP_ZERO_SOURCE) && low_bits(operands[j], bits) == 0)
					continue;
				uint64_t f = flags_in[k];
				uint64_t r = fn(operands[i], operands[j], &f);
				record(r, f, defined);
			}
	alu_print(name, hashed, hash);
}

/* ---- shifts and rotates by CL -------------------------------------------- */

#define SHIFT(fn, insn, mod)                                                   \
	static uint64_t fn(uint64_t a64, uint64_t c64, uint64_t *flags)        \
	{                                                                      \
		word a = (word)a64, c = (word)c64, f = (word)*flags;           \
		__asm__ volatile(SET_FLAGS insn " %%cl, %" mod "[a]" GET_FLAGS \
				 : [a] "+q"(a), [f] "+r"(f)                     \
				 : "c"(c)                                       \
				 : "cc", "memory");                             \
		*flags = f;                                                    \
		return a;                                                      \
	}
#define SHIFT_SIZES(name, insn)               \
	SHIFT(name##_b, insn "b", "b")        \
	SHIFT(name##_w, insn "w", "w")        \
	SHIFT(name##_l, insn "l", "k")        \
	IF64(SHIFT(name##_q, insn "q", "q"))

SHIFT_SIZES(shl, "shl")
SHIFT_SIZES(shr, "shr")
SHIFT_SIZES(sar, "sar")
SHIFT_SIZES(rol, "rol")
SHIFT_SIZES(ror, "ror")
SHIFT_SIZES(rcl, "rcl")
SHIFT_SIZES(rcr, "rcr")

enum shift_kind { SHIFT_LOGICAL, ROTATE };

/* Which flags a shift/rotate defines for a given masked count, per the SDM:
 * count 0 changes nothing; shifts define CF/SF/ZF/PF (AF undefined), rotates
 * change only CF and OF; OF is defined for a count of 1 only; SHL/SHR/SAR of
 * 8/16-bit operands by at least the operand size leave CF undefined. */
static uint64_t shift_defined(enum shift_kind kind, unsigned bits, uint64_t count)
{
	uint64_t masked = count & (bits == 64 ? 63 : 31);
	if (masked == 0)
		return STATUS;
	uint64_t defined = kind == ROTATE ? STATUS & ~OF : CF | SF | ZF | PF;
	if (masked == 1)
		defined |= OF;
	if (kind == SHIFT_LOGICAL && bits < 32 && masked >= bits)
		defined &= ~CF;
	return defined;
}

static void run_shift(const char *name, op2_fn fn, enum shift_kind kind, unsigned bits)
{
	begin();
	for (unsigned i = 0; i < N_OPERANDS; i++)
		for (unsigned j = 0; j < N_COUNTS; j++)
			for (unsigned k = 0; k < 2; k++) {
				uint64_t f = flags_in[k];
				uint64_t r = fn(operands[i], counts[j], &f);
				record(r, f, shift_defined(kind, bits, counts[j]));
			}
	alu_print(name, hashed, hash);
}

/* ---- one-operand ops ----------------------------------------------------- */

#define OP1(fn, insn, mod)                                                \
	static uint64_t fn(uint64_t a64, uint64_t *flags)                 \
	{                                                                 \
		word a = (word)a64, f = (word)*flags;                     \
		__asm__ volatile(SET_FLAGS insn " %" mod "[a]" GET_FLAGS  \
				 : [a] "+q"(a), [f] "+r"(f)                \
				 :                                         \
				 : "cc", "memory");                        \
		*flags = f;                                               \
		return a;                                                 \
	}
#define OP1_SIZES(name, insn)               \
	OP1(name##_b, insn "b", "b")        \
	OP1(name##_w, insn "w", "w")        \
	OP1(name##_l, insn "l", "k")        \
	IF64(OP1(name##_q, insn "q", "q"))

OP1_SIZES(neg, "neg")
OP1_SIZES(not, "not")
OP1_SIZES(inc, "inc")
OP1_SIZES(dec, "dec")
OP1(bswap_l, "bswapl", "k")
IF64(OP1(bswap_q, "bswapq", "q"))

typedef uint64_t (*op1_fn)(uint64_t, uint64_t *);

static void run_op1(const char *name, op1_fn fn, uint64_t defined)
{
	begin();
	for (unsigned i = 0; i < N_OPERANDS; i++)
		for (unsigned k = 0; k < 2; k++) {
			uint64_t f = flags_in[k];
			uint64_t r = fn(operands[i], &f);
			record(r, f, defined);
		}
	alu_print(name, hashed, hash);
}

/* ---- RDX:RAX multiply and divide ------------------------------------------ */

#define MULDIV(fn, insn, mod)                                                                    \
	static uint64_t fn(uint64_t a64, uint64_t d64, uint64_t b64, uint64_t *rdx, uint64_t *flags) \
	{                                                                                        \
		word a = (word)a64, d = (word)d64, b = (word)b64, f = (word)*flags;              \
		__asm__ volatile(SET_FLAGS insn " %" mod "[b]" GET_FLAGS                         \
				 : "+a"(a), "+d"(d), [f] "+r"(f)                                  \
				 : [b] "q"(b)                                                     \
				 : "cc", "memory");                                               \
		*flags = f;                                                                      \
		*rdx = d;                                                                        \
		return a;                                                                        \
	}
#define MULDIV_SIZES(name, insn)               \
	MULDIV(name##_b, insn "b", "b")        \
	MULDIV(name##_w, insn "w", "w")        \
	MULDIV(name##_l, insn "l", "k")        \
	IF64(MULDIV(name##_q, insn "q", "q"))

MULDIV_SIZES(mul, "mul")
MULDIV_SIZES(imul1, "imul")
MULDIV_SIZES(div, "div")
MULDIV_SIZES(idiv, "idiv")

typedef uint64_t (*muldiv_fn)(uint64_t, uint64_t, uint64_t, uint64_t *, uint64_t *);

static int64_t sign_extend(uint64_t v, unsigned bits)
{
	return bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* Divides only where the quotient fits (no #DE): the dividend's high half is
 * zero (DIV) or the sign extension of the low half (IDIV), the divisor is not
 * zero, and IDIV skips MIN / -1. The 8-bit forms divide AX, so AH gets that
 * high half. */
static int divide_case(int is_signed, unsigned bits, uint64_t a, uint64_t b, uint64_t *rax, uint64_t *rdx)
{
	uint64_t lo = low_bits(a, bits), divisor = low_bits(b, bits);
	if (divisor == 0)
		return 0;
	if (is_signed && lo == (1ull << (bits - 1)) && low_bits(~0ull, bits) == divisor)
		return 0;
	uint64_t high = is_signed && sign_extend(lo, bits) < 0 ? low_bits(~0ull, bits) : 0;
	if (bits == 8) {
		*rax = (a & ~0xFFFFull) | (high << 8) | lo;
		*rdx = 0x1111111111111111ull;
	} else {
		*rax = a;
		*rdx = (0x1111111111111111ull & ~low_bits(~0ull, bits)) | high;
	}
	return 1;
}

enum muldiv_kind { MULTIPLY, DIVIDE_UNSIGNED, DIVIDE_SIGNED };

static void run_muldiv(const char *name, muldiv_fn fn, enum muldiv_kind kind, unsigned bits)
{
	begin();
	for (unsigned i = 0; i < N_OPERANDS; i++)
		for (unsigned j = 0; j < N_OPERANDS; j++)
			for (unsigned k = 0; k < 2; k++) {
				uint64_t rax = operands[i], rdx = 0x1111111111111111ull, out_rdx;
				if (kind != MULTIPLY &&
				    !divide_case(kind == DIVIDE_SIGNED, bits, operands[i], operands[j], &rax, &rdx))
					continue;
				uint64_t f = flags_in[k];
				uint64_t r = fn(rax, rdx, operands[j], &out_rdx, &f);
				record(r, f, kind == MULTIPLY ? CF | OF : 0);
				mix(out_rdx);
			}
	alu_print(name, hashed, hash);
}

/* ---- conditions: SETcc after CMP ------------------------------------------ */

static uint64_t setcc_all(uint64_t a64, uint64_t b64)
{
	word a = (word)a64, b = (word)b64;
	uint64_t bits = 0;
	uint8_t r;
#define SETCC(cc, n)                                                                         \
	__asm__ volatile("cmp %2, %1\n\tset" cc " %0" : "=q"(r) : "r"(a), "r"(b) : "cc"); \
	bits |= (uint64_t)r << n;
	SETCC("o", 0) SETCC("no", 1) SETCC("b", 2) SETCC("ae", 3) SETCC("e", 4) SETCC("ne", 5)
	SETCC("be", 6) SETCC("a", 7) SETCC("s", 8) SETCC("ns", 9) SETCC("p", 10) SETCC("np", 11)
	SETCC("l", 12) SETCC("ge", 13) SETCC("le", 14) SETCC("g", 15)
#undef SETCC
	return bits;
}

static void run_setcc(void)
{
	begin();
	for (unsigned i = 0; i < N_OPERANDS; i++)
		for (unsigned j = 0; j < N_OPERANDS; j++)
			record(setcc_all(operands[i], operands[j]), 0, 0);
	alu_print("setcc after cmp", hashed, hash);
}

#define LOGIC_DEFINED (STATUS & ~AF)          /* AF undefined; CF, OF cleared */
#define MUL_DEFINED (CF | OF)
#define INCDEC_DEFINED STATUS                 /* CF preserved, others defined */
#define BT_DEFINED (CF | ZF)                  /* ZF unaffected; OF SF AF PF undefined */

void alu_run_all(void)
{
#define SIZES4(label, name, defined, flags)                          \
	run_op2(label " b", name##_b, 8, defined, flags);            \
	run_op2(label " w", name##_w, 16, defined, flags);           \
	run_op2(label " l", name##_l, 32, defined, flags);           \
	IF64(run_op2(label " q", name##_q, 64, defined, flags);)
#define SIZES3(label, name, defined, flags)                          \
	run_op2(label " w", name##_w, 16, defined, flags);           \
	run_op2(label " l", name##_l, 32, defined, flags);           \
	IF64(run_op2(label " q", name##_q, 64, defined, flags);)
	SIZES4("add", add, STATUS, 0)
	SIZES4("adc", adc, STATUS, 0)
	SIZES4("sub", sub, STATUS, 0)
	SIZES4("sbb", sbb, STATUS, 0)
	SIZES4("and", and, LOGIC_DEFINED, 0)
	SIZES4("or", or, LOGIC_DEFINED, 0)
	SIZES4("xor", xor, LOGIC_DEFINED, 0)
	SIZES4("cmp", cmp, STATUS, 0)
	SIZES4("test", test, LOGIC_DEFINED, 0)
	SIZES4("xadd", xadd, STATUS, 0)
	SIZES3("imul r,r", imul2, MUL_DEFINED, 0)
	SIZES3("bt", bt, BT_DEFINED, 0)
	SIZES3("bts", bts, BT_DEFINED, 0)
	SIZES3("btr", btr, BT_DEFINED, 0)
	SIZES3("btc", btc, BT_DEFINED, 0)
	SIZES3("bsf", bsf, ZF, SKIP_ZERO_SOURCE)
	SIZES3("bsr", bsr, ZF, SKIP_ZERO_SOURCE)
	IF64(SIZES3("popcnt", popcnt, STATUS, 0))
	run_op2("movsbl", movsxb_l, 8, STATUS, 0);
	run_op2("movzbl", movzxb_l, 8, STATUS, 0);
	run_op2("movswl", movsxw_l, 16, STATUS, 0);
	run_op2("movzwl", movzxw_l, 16, STATUS, 0);
	IF64(run_op2("movsbq", movsxb_q, 8, STATUS, 0);)
	IF64(run_op2("movslq", movsxl_q, 32, STATUS, 0);)

#define SHIFTS(label, name, kind)                                    \
	run_shift(label " b", name##_b, kind, 8);                    \
	run_shift(label " w", name##_w, kind, 16);                   \
	run_shift(label " l", name##_l, kind, 32);                   \
	IF64(run_shift(label " q", name##_q, kind, 64);)
	SHIFTS("shl", shl, SHIFT_LOGICAL)
	SHIFTS("shr", shr, SHIFT_LOGICAL)
	SHIFTS("sar", sar, SHIFT_LOGICAL)
	SHIFTS("rol", rol, ROTATE)
	SHIFTS("ror", ror, ROTATE)
	SHIFTS("rcl", rcl, ROTATE)
	SHIFTS("rcr", rcr, ROTATE)

#define ONES(label, name, defined)                                   \
	run_op1(label " b", name##_b, defined);                      \
	run_op1(label " w", name##_w, defined);                      \
	run_op1(label " l", name##_l, defined);                      \
	IF64(run_op1(label " q", name##_q, defined);)
	ONES("neg", neg, STATUS)
	ONES("not", not, STATUS)
	ONES("inc", inc, INCDEC_DEFINED)
	ONES("dec", dec, INCDEC_DEFINED)
	run_op1("bswap l", bswap_l, STATUS);
	IF64(run_op1("bswap q", bswap_q, STATUS);)

#define MULDIVS(label, name, kind)                                   \
	run_muldiv(label " b", name##_b, kind, 8);                   \
	run_muldiv(label " w", name##_w, kind, 16);                  \
	run_muldiv(label " l", name##_l, kind, 32);                  \
	IF64(run_muldiv(label " q", name##_q, kind, 64);)
	MULDIVS("mul", mul, MULTIPLY)
	MULDIVS("imul", imul1, MULTIPLY)
	MULDIVS("div", div, DIVIDE_UNSIGNED)
	MULDIVS("idiv", idiv, DIVIDE_SIGNED)

	run_setcc();
}
