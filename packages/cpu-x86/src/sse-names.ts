/**
 * SSE/SSE2 mnemonic tables (iced-x86 names), indexed by the 0F-map opcode byte: [none, 66, F3, F2]
 * prefix variants, from which the instruction table (insn-table.ts) makes one form each. '' means the
 * variant does not exist for us (MMX forms, SSE3+): it has no form and decodes as #UD. A name may carry
 * a form suffix: '@m' memory operand only, '@r' register operand only.
 */
export const SSE_NAMES: Record<number, [string, string, string, string]> = {};

function def(op: number, none: string, p66: string, f3: string, f2: string): void {
  SSE_NAMES[op] = [none, p66, f3, f2];
}

def(0x10, 'Movups', 'Movupd', 'Movss', 'Movsd');
def(0x11, 'Movups', 'Movupd', 'Movss', 'Movsd');
def(0x12, 'Movlps', 'Movlpd@m', '', ''); // no prefix, register source: MOVHLPS
def(0x13, 'Movlps@m', 'Movlpd@m', '', '');
def(0x14, 'Unpcklps', 'Unpcklpd', '', '');
def(0x15, 'Unpckhps', 'Unpckhpd', '', '');
def(0x16, 'Movhps', 'Movhpd@m', '', ''); // no prefix, register source: MOVLHPS
def(0x17, 'Movhps@m', 'Movhpd@m', '', '');
def(0x28, 'Movaps', 'Movapd', '', '');
def(0x29, 'Movaps', 'Movapd', '', '');
// CVTPI2PS/PD from an MMX register need MMX (not advertised); from memory they are plain SSE/SSE2.
def(0x2a, 'Cvtpi2ps@m', 'Cvtpi2pd@m', 'Cvtsi2ss', 'Cvtsi2sd');
def(0x2b, 'Movntps@m', 'Movntpd@m', '', '');
def(0x2c, '', '', 'Cvttss2si', 'Cvttsd2si');
def(0x2d, '', '', 'Cvtss2si', 'Cvtsd2si');
def(0x2e, 'Ucomiss', 'Ucomisd', '', '');
def(0x2f, 'Comiss', 'Comisd', '', '');
def(0x50, 'Movmskps@r', 'Movmskpd@r', '', '');
def(0x51, 'Sqrtps', 'Sqrtpd', 'Sqrtss', 'Sqrtsd');
def(0x52, 'Rsqrtps', '', 'Rsqrtss', '');
def(0x53, 'Rcpps', '', 'Rcpss', '');
def(0x54, 'Andps', 'Andpd', '', '');
def(0x55, 'Andnps', 'Andnpd', '', '');
def(0x56, 'Orps', 'Orpd', '', '');
def(0x57, 'Xorps', 'Xorpd', '', '');
def(0x58, 'Addps', 'Addpd', 'Addss', 'Addsd');
def(0x59, 'Mulps', 'Mulpd', 'Mulss', 'Mulsd');
def(0x5a, 'Cvtps2pd', 'Cvtpd2ps', 'Cvtss2sd', 'Cvtsd2ss');
def(0x5b, 'Cvtdq2ps', 'Cvtps2dq', 'Cvttps2dq', '');
def(0x5c, 'Subps', 'Subpd', 'Subss', 'Subsd');
def(0x5d, 'Minps', 'Minpd', 'Minss', 'Minsd');
def(0x5e, 'Divps', 'Divpd', 'Divss', 'Divsd');
def(0x5f, 'Maxps', 'Maxpd', 'Maxss', 'Maxsd');
def(0x60, '', 'Punpcklbw', '', '');
def(0x61, '', 'Punpcklwd', '', '');
def(0x62, '', 'Punpckldq', '', '');
def(0x6c, '', 'Punpcklqdq', '', '');
def(0x6d, '', 'Punpckhqdq', '', '');
def(0x68, '', 'Punpckhbw', '', '');
def(0x69, '', 'Punpckhwd', '', '');
def(0x6a, '', 'Punpckhdq', '', '');
def(0x6e, '', 'Movd', '', '');
def(0x6f, '', 'Movdqa', 'Movdqu', '');
def(0x70, '', 'Pshufd', 'Pshufhw', 'Pshuflw');
def(0x74, '', 'Pcmpeqb', '', '');
def(0x75, '', 'Pcmpeqw', '', '');
def(0x76, '', 'Pcmpeqd', '', '');
def(0x7e, '', 'Movd', 'Movq', '');
def(0x7f, '', 'Movdqa', 'Movdqu', '');
def(0xc2, 'Cmpps', 'Cmppd', 'Cmpss', 'Cmpsd');
def(0xc6, 'Shufps', 'Shufpd', '', '');
def(0xc4, '', 'Pinsrw', '', '');
def(0xc5, '', 'Pextrw@r', '', '');
def(0xd4, '', 'Paddq', '', '');
def(0xd6, '', 'Movq', '', '');
def(0xd7, '', 'Pmovmskb@r', '', '');
def(0xdb, '', 'Pand', '', '');
def(0xdf, '', 'Pandn', '', '');
def(0xe6, '', 'Cvttpd2dq', 'Cvtdq2pd', 'Cvtpd2dq');
def(0xe7, '', 'Movntdq@m', '', '');
def(0xeb, '', 'Por', '', '');
def(0xef, '', 'Pxor', '', '');
def(0xfa, '', 'Psubd', '', '');
def(0xfb, '', 'Psubq', '', '');
def(0xfe, '', 'Paddd', '', '');
def(0xd5, '', 'Pmullw', '', '');
def(0xfc, '', 'Paddb', '', '');
def(0xfd, '', 'Paddw', '', '');
def(0xf8, '', 'Psubb', '', '');
def(0xf9, '', 'Psubw', '', '');
def(0xf4, '', 'Pmuludq', '', '');
def(0xda, '', 'Pminub', '', '');
def(0xde, '', 'Pmaxub', '', '');
def(0x64, '', 'Pcmpgtb', '', '');
def(0xd8, '', 'Psubusb', '', '');
def(0xd9, '', 'Psubusw', '', '');
def(0xdc, '', 'Paddusb', '', '');
def(0xdd, '', 'Paddusw', '', '');
def(0xe8, '', 'Psubsb', '', '');
def(0xe9, '', 'Psubsw', '', '');
def(0xec, '', 'Paddsb', '', '');
def(0xed, '', 'Paddsw', '', '');
def(0xe0, '', 'Pavgb', '', '');
def(0xe3, '', 'Pavgw', '', '');
def(0xe4, '', 'Pmulhuw', '', '');
def(0xe5, '', 'Pmulhw', '', '');
def(0xea, '', 'Pminsw', '', '');
def(0xee, '', 'Pmaxsw', '', '');
def(0xf5, '', 'Pmaddwd', '', '');
def(0xf6, '', 'Psadbw', '', '');
def(0xf7, '', 'Maskmovdqu@r', '', '');
def(0x63, '', 'Packsswb', '', '');
def(0x67, '', 'Packuswb', '', '');
def(0x6b, '', 'Packssdw', '', '');
def(0x65, '', 'Pcmpgtw', '', '');
def(0x66, '', 'Pcmpgtd', '', '');

def(0xd1, '', 'Psrlw', '', '');
def(0xd2, '', 'Psrld', '', '');
def(0xd3, '', 'Psrlq', '', '');
def(0xe1, '', 'Psraw', '', '');
def(0xe2, '', 'Psrad', '', '');
def(0xf1, '', 'Psllw', '', '');
def(0xf2, '', 'Pslld', '', '');
def(0xf3, '', 'Psllq', '', '');

/** Shift-by-immediate groups 66 0F 71/72/73, by ModRM.reg (register operand only). */
export const SHIFT_IMM: Record<number, string[]> = {
  0x71: ['', '', 'Psrlw', '', 'Psraw', '', 'Psllw', ''],
  0x72: ['', '', 'Psrld', '', 'Psrad', '', 'Pslld', ''],
  0x73: ['', '', 'Psrlq', 'Psrldq', '', '', 'Psllq', 'Pslldq'],
};
