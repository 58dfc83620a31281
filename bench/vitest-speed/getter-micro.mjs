// Hot loop reading an imported constant and calling an imported function: as Node's ESM
// linking leaves it (a plain binding) and as vite's module runner rewrites it (a property of
// an Object.create(null) exports object, each export a getter with try/catch, then sealed).
const N = 2e7;
const DF = 0x400; function f(x) { return (x * 3) & 0xffff; }
const ex = Object.create(null);
Object.defineProperty(ex, Symbol.toStringTag, { value: 'Module', enumerable: false, configurable: false });
for (const [n, g] of [['DF', () => { try { return DF; } catch {} }], ['f', () => { try { return f; } catch {} }]]) Object.defineProperty(ex, n, { enumerable: true, configurable: true, get: g });
for (let i = 0; i < 200; i++) Object.defineProperty(ex, 'K' + i, { enumerable: true, configurable: true, get: () => i });
Object.seal(ex);
function plain() { let s = 0; for (let i = 0; i < N; i++) s = (s + (i & DF ? f(i) : 1)) | 0; return s; }
function viaRunner() { let s = 0; for (let i = 0; i < N; i++) s = (s + (i & ex.DF ? (0, ex.f)(i) : 1)) | 0; return s; }
for (const [name, fn] of [['plain binding', plain], ['vite exports getter', viaRunner], ['plain binding', plain], ['vite exports getter', viaRunner]]) {
  const t = performance.now(); fn(); console.log(name.padEnd(22), (performance.now() - t).toFixed(0), 'ms');
}
